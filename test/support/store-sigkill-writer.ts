/**
 * Child process for store-sigkill.spec.ts (argv[2] = database path): opens the store and rewrites the
 * cloud target, the global API key, an app key and a setting in a tight loop until it is killed.
 * After each committed target it prints the target's sequence number, so the parent knows which
 * commits were acknowledged; before opening it prints `opening`, once open `ready`.
 */
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { makeTarget, WRITER_ORIGIN } from './store-sigkill-target.js';

async function main(dbPath: string): Promise<void> {
  process.stdout.write('opening\n');
  const store = await openStore({ path: dbPath, logger: silentLogger() });
  const previous = await store.targets.load(WRITER_ORIGIN);
  let seq = Number(previous?.config['SEQ'] ?? '0');
  process.stdout.write('ready\n');
  for (;;) {
    seq++;
    await store.targets.save(WRITER_ORIGIN, makeTarget(seq));
    process.stdout.write(`${seq}\n`);
    await store.apiKeys.regenerate(await store.apiKeys.globalKey());
    await store.apiKeys.appKey(1 + (seq % 5), 'main');
    await store.config.set('name', `device-${seq}`);
  }
}

const dbPath = process.argv[2];
if (!dbPath) throw new Error('usage: store-sigkill-writer.ts <database path>');
await main(dbPath);
