/**
 * Child process for logs-spool.spec.ts (argv[2] = spool dir, argv[3] = `wal` or `rollback`): publishes numbered lines of two services
 * as fast as it can, with small bounds so eviction runs all the time, and acknowledges every 500th id;
 * prints each committed id range so the parent knows what was durable. Runs until killed.
 */
import { silentLogger } from '../../src/shared/logger.js';
import { LogSpool } from '../../src/logs/log-spool.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: log-spool-sigkill-writer.ts <dir>');
const spool = new LogSpool({
  dir,
  limits: { maxBytes: 256 * 1024, maxServiceBytes: 160 * 1024 },
  survivesPowerCut: process.argv[3] !== 'rollback',
  logger: silentLogger(),
  now: Date.now,
  commitIntervalMs: 5,
});
let n = 0;
spool.onCommit(() => process.stdout.write(`committed ${spool.lastId}\n`));
process.stdout.write('ready\n');
for (;;) {
  for (let i = 0; i < 200; i++) {
    n++;
    spool.publish({
      message: `line ${n}`,
      timestamp: Date.now(),
      serviceId: 1 + (n % 2),
      serviceName: n % 2 === 0 ? 'even' : 'odd',
    });
  }
  if (spool.lastId > spool.acknowledged + 500) await spool.acknowledge(spool.lastId - 100);
  await new Promise((r) => setTimeout(r, 1));
}
