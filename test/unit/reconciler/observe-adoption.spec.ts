/**
 * The observer's adoption of supervised containers without bosun's hash label: their config hash is
 * rebuilt from the inspect the listing already has, once per container, with one image request per image.
 */
import assert from 'node:assert/strict';
import { CONFIG_HASH_LABEL, serviceConfigHash } from '../../../src/domain/config-hash.js';
import type { ContainerCreateSpec } from '../../../src/domain/container-spec.js';
import { FakeEngine } from '../../support/fake-engine/fake-engine.js';
import { Observer } from '../../../src/reconciler/observe.js';
import { silentLogger } from '../../../src/shared/logger.js';

const IMAGE = 'registry.test/app:1';

function spec(
  name: string,
  env: string[],
  labels: Record<string, string> = {},
): ContainerCreateSpec {
  return {
    name,
    Image: IMAGE,
    Env: env,
    Labels: {
      'io.balena.supervised': 'true',
      'io.balena.app-id': '7',
      'io.balena.app-uuid': 'app7',
      'io.balena.service-id': '3',
      'io.balena.service-name': name.split('_')[0] ?? name,
      ...labels,
    },
    Tty: false,
    HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: 'always' }, IpcMode: 'shareable' },
  };
}

describe('Observer adoption of unlabelled containers', function () {
  it('hashes a balena-made container like its create spec, once, and keeps our own label as is', async () => {
    const engine = new FakeEngine();
    engine.loadImage(IMAGE);
    let imageRequests = 0;
    const inspectImageConfig = engine.inspectImageConfig.bind(engine);
    engine.inspectImageConfig = (reference) => {
      imageRequests++;
      return inspectImageConfig(reference);
    };
    const balena = spec('web_11_3_c0ffee', ['A=1']);
    const other = spec('db_12_3_c0ffee', ['B=2']);
    const ours = spec('api_13_3_c0ffee', ['C=3'], { [CONFIG_HASH_LABEL]: 'bosun-made' });
    for (const s of [balena, other, ours]) await engine.createContainer(s);
    const observer = new Observer({
      engine,
      locks: { list: () => Promise.resolve([]), handoverComplete: () => Promise.resolve([]) },
      downloads: { list: () => [] },
      commits: { getCommits: () => Promise.resolve({}) },
      logger: silentLogger(),
      clock: { now: () => Date.now() },
    });
    // As the reconciler does: every engine event tells the observer what to ask again.
    const events = engine.events().subscribe((event) => observer.noteEvent(event));

    const hashes = async (): Promise<Record<string, string | undefined>> =>
      Object.fromEntries(
        (await observer.observe()).containers.map((c) => [c.serviceName, c.configHash]),
      );
    const expected = {
      web: serviceConfigHash(balena),
      db: serviceConfigHash(other),
      api: 'bosun-made',
    };
    assert.deepEqual(await hashes(), expected);
    assert.deepEqual(await hashes(), expected);
    assert.equal(imageRequests, 1, 'one image config request for one image, over two rounds');

    // A restart policy changed in place is config: the cached hash follows it.
    const web = (await engine.listContainers()).find((c) => c.name === balena.name);
    assert.ok(web !== undefined);
    await engine.updateRestartPolicy(web.id, 'no');
    const changed = await hashes();
    assert.equal(
      changed['web'],
      serviceConfigHash({
        ...balena,
        HostConfig: { ...balena.HostConfig, RestartPolicy: { Name: 'no' } },
      }),
    );
    assert.equal(changed['db'], expected.db);
    events.unsubscribe();
  });
});
