// Regenerates docs/errors.md from the error registry: `node --import tsx scripts/gen-error-docs.ts`.
import { writeFileSync } from 'node:fs';
import { ERROR_REGISTRY } from '../src/shared/errors.js';

let out =
  '# Error codes\n\nEvery error bosun raises on purpose carries one of these stable codes (`src/shared/errors.ts`).\n' +
  'The local API answers `{"status":"failed","message"}` with the HTTP status below; logs carry the code in `err.code`.\n' +
  'Retryable errors are retried by bosun itself, with backoff.\n\n' +
  '| code | HTTP | retryable | meaning |\n|---|---|---|---|\n';
for (const [code, def] of Object.entries(ERROR_REGISTRY)) {
  out += `| \`${code}\` | ${def.httpStatus} | ${def.retryable ? 'yes' : 'no'} | ${def.description} |\n`;
}
writeFileSync(new URL('../docs/errors.md', import.meta.url), out);
