// Loaded with `node --import` by test/e2e/bundle-build-cuts.spec.ts: when the process exits, writes the
// paths of the CommonJS modules it loaded (Node's require cache: the bundle's externals, required at run
// time, which module hooks do not see on Node 20) to the file BOSUN_TEST_RECORD_CJS, one per line.
// Test-only: nothing in the agent knows about it.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.BOSUN_TEST_RECORD_CJS;
const { cache } = createRequire(import.meta.url);
process.on('exit', () => {
  if (file !== undefined) writeFileSync(file, Object.keys(cache).join('\n') + '\n');
});
