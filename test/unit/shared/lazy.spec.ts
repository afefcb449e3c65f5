import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lazy } from '../../../src/shared/lazy.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Run in a fresh Node (this process has long since built every schema): counts the live zod schema
 * instances (v8.queryObjects: each instance's prototype is its class's) after loading the API's route
 * table and the target modules, then after a first request body and a first target are validated.
 * Every module-level schema bosun has holds at least one of the classes counted; each count walks the
 * heap, so not all of zod's ~70 classes are.
 */
const CHILD = `
import v8 from 'node:v8';
import { z } from 'zod';
const classes = [z.ZodObject, z.ZodString, z.ZodNumber, z.ZodBoolean, z.ZodUnion, z.ZodRecord,
  z.ZodArray, z.ZodOptional, z.ZodEnum, z.ZodLiteral, z.ZodPipe, z.ZodCustom];
const count = () => classes.reduce((n, c) => n + v8.queryObjects(c), 0);
const src = (file) => import(new URL('src/' + file, ${JSON.stringify(`file://${root}`)}).href);
const before = count();
const { createApi } = await src('api/app.js');
const { validateTargetDevice } = await src('domain/target/validate-target.js');
const { localTargetToV3 } = await src('domain/target/local-target.js');
const { ForceBody } = await src('api/schemas.js');
const loaded = count();
ForceBody().parse({ force: 'true' });
const afterBody = count();
const device = localTargetToV3({ local: { name: 'd', config: {}, apps: { 7: { name: 'a', commit: 'c', releaseId: 1,
  services: { 1: { serviceName: 's', serviceId: 1, imageId: 1, image: 'busybox', ports: ['80:80'] } } } } } }, 'd').device;
validateTargetDevice(device);
const afterTarget = count();
console.log(JSON.stringify({ before, loaded, afterBody, afterTarget, createApi: typeof createApi }));
`;

/** The environment without c8: Node hands NODE_V8_COVERAGE on to children unless the key is set. */
function withoutCoverage(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_V8_COVERAGE: '' };
}

describe('lazy (schemas on first use)', () => {
  it('builds the value on the first call only, and returns that same value after', () => {
    let builds = 0;
    const get = lazy(() => ({ built: ++builds }));
    assert.equal(builds, 0, 'nothing is built before the first call');
    const first = get();
    assert.equal(get(), first);
    assert.equal(builds, 1);
  });

  it('loading the API and the target modules builds no zod schema; first use builds them', function () {
    this.timeout(60_000);
    const out = execFileSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        '--import',
        'tsx',
        '--input-type=module',
        '--eval',
        CHILD,
      ],
      // Not under c8: this child loads the API and target modules without running them, and its
      // coverage merged with the suite's (same files, transformed apart) counted their lines as missed.
      { cwd: root, encoding: 'utf8', env: withoutCoverage() },
    );
    const counts = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | string>;
    assert.equal(counts['createApi'], 'function');
    assert.equal(counts['loaded'], counts['before'], 'schemas were built at import');
    assert.ok(Number(counts['afterBody']) > Number(counts['loaded']), 'the counter sees schemas');
    assert.ok(Number(counts['afterTarget']) > Number(counts['afterBody']));
  });
});
