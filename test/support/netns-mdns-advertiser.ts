/**
 * Child process for test/integration/mdns.spec.ts, run inside a network namespace: bosun's MdnsAdvertiser
 * for `argv[2]` on the interfaces in `argv[3]` (comma-separated). Reads `stop` / `start` / `exit` lines
 * on stdin and answers each with a JSON line on stdout.
 */
import { createInterface } from 'node:readline';
import { MdnsAdvertiser } from '../../src/device/mdns.js';
import { createLogger } from '../../src/shared/logger.js';

const [name = 'abc1234', interfaces = ''] = process.argv.slice(2);
const advertiser = new MdnsAdvertiser({
  name,
  interfaces: interfaces.split(',').filter(Boolean),
  logger: createLogger({ level: 'warn', destination: process.stderr }),
});
const say = (event: string): void => {
  process.stdout.write(`${JSON.stringify({ event, advertisingOn: advertiser.advertisingOn })}\n`);
};

await advertiser.start();
say('started');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stop') {
    await advertiser.stop();
    say('stopped');
  } else if (line === 'start') {
    await advertiser.start();
    say('started');
  } else if (line === 'exit') {
    break;
  }
}
await advertiser.stop();
process.exit(0);
