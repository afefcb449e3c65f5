// Loaded with `node --import` by test/e2e/store-knex-deferred.spec.ts: appends the URL of every module
// the process loads (ES modules included, which `process.moduleLoadList` does not show) to the file
// BOSUN_TEST_RECORD_MODULES, one per line, so a test can say which chunks of the bundle a run parsed.
// Test-only: nothing in the agent knows about it.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url, {
  data: { file: process.env.BOSUN_TEST_RECORD_MODULES },
});
