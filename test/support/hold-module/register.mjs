// Loaded with `node --import` by test/e2e/start-up.spec.ts: holds the loading of every module whose URL
// matches BOSUN_TEST_HOLD_PATTERN until the file BOSUN_TEST_HOLD_RELEASE exists, so a test can look at
// the agent while the deferred part of its start-up is provably not loaded yet. Test-only: nothing in
// the agent knows about it.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url, {
  data: {
    pattern: process.env.BOSUN_TEST_HOLD_PATTERN,
    releaseFile: process.env.BOSUN_TEST_HOLD_RELEASE,
  },
});
