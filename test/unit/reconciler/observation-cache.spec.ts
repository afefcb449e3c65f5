/**
 * What the observer may reuse from its last observation: only what no event and no step touched since,
 * nothing while the engine's event stream is down, and nothing older than the expiry.
 */
import assert from 'node:assert/strict';
import { ObservationCache } from '../../../src/reconciler/observation-cache.js';
import type { Step } from '../../../src/planner/index.js';

type Lists = { images: string[]; networks: string[]; volumes: string[] };

function setup(maxAgeMs = 60_000): {
  cache: ObservationCache<{ name: string }, Lists>;
  clock: { t: number };
} {
  const clock = { t: 1_000 };
  return { cache: new ObservationCache(() => clock.t, maxAgeMs), clock };
}

const base = { id: 's', reason: 'r', dependsOn: [], appUuid: 'app' };

describe('observation cache', function () {
  it('holds a list until an event of its kind arrives, and only that kind', function () {
    const { cache } = setup();
    cache.keepList('images', ['a']);
    cache.keepList('networks', ['n']);
    cache.keepList('volumes', ['v']);
    cache.noteEvent({ type: 'image', action: 'pull', id: 'x', time: 1 });
    assert.equal(cache.list('images'), undefined);
    assert.deepEqual(cache.list('networks'), ['n']);
    assert.deepEqual(cache.list('volumes'), ['v']);
    cache.noteEvent({ type: 'network', action: 'connect', id: 'n', time: 1 });
    cache.noteEvent({ type: 'volume', action: 'destroy', id: 'v', time: 1 });
    assert.equal(cache.list('networks'), undefined);
    assert.equal(cache.list('volumes'), undefined);
  });

  it('reuses a container inspect only while its list entry reads the same', function () {
    const { cache } = setup();
    cache.keepContainer('c1', 'web|running|none', { name: 'web' });
    assert.deepEqual(cache.container('c1', 'web|running|none'), { name: 'web' });
    assert.equal(cache.container('c1', 'web|exited|none'), undefined, 'state changed');
    assert.equal(cache.container('c1', 'web|running|unhealthy'), undefined, 'health changed');
    cache.noteEvent({
      type: 'container',
      action: 'die',
      id: 'c1',
      name: 'web',
      labels: {},
      time: 1,
    });
    assert.equal(cache.container('c1', 'web|running|none'), undefined, 'an event drops it');
  });

  it('forgets what a step may have changed, by id or by name', function () {
    const { cache } = setup();
    cache.keepContainer('abcdef0123456789', 'web|running|none', { name: 'web_1_1_c' });
    cache.keepContainer('ffff', 'db|running|none', { name: 'db_2_1_c' });
    cache.keepList('images', ['a']);
    cache.keepList('volumes', ['v']);
    const stop: Step = {
      ...base,
      kind: 'stopContainer',
      containerId: 'web_1_1_c',
      serviceName: 'web',
      timeoutSec: 10,
    };
    cache.noteStep(stop);
    assert.equal(cache.container('abcdef0123456789', 'web|running|none'), undefined);
    assert.deepEqual(cache.container('ffff', 'db|running|none'), { name: 'db_2_1_c' });
    cache.noteStep({ ...base, kind: 'pullImage', image: 'i', serviceName: 'web' });
    assert.equal(cache.list('images'), undefined);
    assert.deepEqual(cache.list('volumes'), ['v'], 'a pull leaves volumes alone');
    cache.noteStep({ ...base, kind: 'removeVolume', engineName: '1_data' });
    assert.equal(cache.list('volumes'), undefined);
  });

  it('holds nothing while the event stream is down, and starts over when it is back', function () {
    const { cache } = setup();
    cache.keepList('images', ['a']);
    cache.noteEvent({ type: 'disconnected', time: 1, reason: 'gone' });
    assert.equal(cache.list('images'), undefined);
    cache.keepList('images', ['b']);
    cache.keepContainer('c1', 'sig', { name: 'web' });
    assert.equal(cache.list('images'), undefined, 'not kept while events may be missed');
    assert.equal(cache.container('c1', 'sig'), undefined);
    cache.noteEvent({ type: 'reconnected', time: 2 });
    cache.keepList('images', ['c']);
    assert.deepEqual(cache.list('images'), ['c']);
  });

  it('expires every entry, so a lost event cannot mislead for longer than the expiry', function () {
    const { cache, clock } = setup(1_000);
    cache.keepList('volumes', ['v']);
    cache.keepContainer('c1', 'sig', { name: 'web' });
    clock.t += 999;
    assert.deepEqual(cache.list('volumes'), ['v']);
    clock.t += 1;
    assert.equal(cache.list('volumes'), undefined);
    assert.equal(cache.container('c1', 'sig'), undefined);
  });

  it('drops containers that are no longer listed', function () {
    const { cache } = setup();
    cache.keepContainer('c1', 'sig', { name: 'a' });
    cache.keepContainer('c2', 'sig', { name: 'b' });
    cache.retainContainers(new Set(['c2']));
    assert.equal(cache.container('c1', 'sig'), undefined);
    assert.deepEqual(cache.container('c2', 'sig'), { name: 'b' });
  });
});
