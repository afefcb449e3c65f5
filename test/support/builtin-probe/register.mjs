// Loaded with `node --import` by test/e2e/idle-modules.spec.ts: on SIGUSR2 the process writes what it
// has loaded so far to the file BOSUN_TEST_LOADED_FILE as JSON: `moduleLoadList` (every Node built-in
// module and binding, in order) and `commonjs` (the CommonJS files in require's cache, i.e. the
// packages left outside the bundle). Written to a temporary name and renamed, so a reader never sees
// half of it. Test-only: nothing in the agent knows about it, and it loads only node:fs and node:module,
// which the agent loads anyway.
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.BOSUN_TEST_LOADED_FILE;
const require = createRequire(import.meta.url);
if (file !== undefined) {
  process.on('SIGUSR2', () => {
    const loaded = { moduleLoadList: process.moduleLoadList, commonjs: Object.keys(require.cache) };
    writeFileSync(`${file}.tmp`, JSON.stringify(loaded));
    renameSync(`${file}.tmp`, file);
  });
}
