import assert from 'node:assert/strict';
import { PullProgressTracker } from '../../../src/engine/pull-progress.js';

describe('PullProgressTracker', function () {
  it('sums download bytes over layers and ignores extraction progress', function () {
    const t = new PullProgressTracker('r/a:1');
    t.update({ status: 'Pulling fs layer', id: 'l1', progressDetail: {} });
    t.update({ status: 'Pulling fs layer', id: 'l2', progressDetail: {} });
    t.update({ status: 'Downloading', id: 'l2', progressDetail: { current: 100, total: 300 } });
    const p = t.update({
      status: 'Downloading',
      id: 'l1',
      progressDetail: { current: 50, total: 100 },
    })!;
    assert.equal(p.downloadedBytes, 150);
    assert.equal(p.totalBytes, 400);
    assert.equal(p.percent, 37);
    t.update({ status: 'Download complete', id: 'l1', progressDetail: {} });
    const extracting = t.update({
      status: 'Extracting',
      id: 'l1',
      progressDetail: { current: 1, total: 100 },
    })!;
    assert.equal(
      extracting.layers['l1']!.current,
      100,
      'extraction does not send a layer back to 1 byte',
    );
    assert.equal(extracting.downloadedBytes, 200);
  });

  it('never lets percent fall when a new layer size appears, and holds it under 100 until complete()', function () {
    const t = new PullProgressTracker('r/a:1');
    const a = t.update({
      status: 'Downloading',
      id: 'l1',
      progressDetail: { current: 100, total: 100 },
    })!;
    assert.equal(a.percent, 99);
    const b = t.update({
      status: 'Downloading',
      id: 'l2',
      progressDetail: { current: 1, total: 1000 },
    })!;
    assert.equal(b.percent, 99, 'the raw ratio fell to 9%: the reported percentage does not');
    const done = t.complete();
    assert.equal(done.percent, 100);
    assert.equal(done.downloadedBytes, done.totalBytes);
  });

  it('leaves percent undefined while no size is known, and skips messages that are not about layers', function () {
    const t = new PullProgressTracker('r/a:1');
    assert.equal(t.update({ status: 'Pulling from r/a', id: '1' }), undefined);
    assert.equal(t.update({ status: 'Digest: sha256:abc' }), undefined);
    const p = t.update({ status: 'Already exists', id: 'l1', progressDetail: {} })!;
    assert.equal(p.percent, undefined);
    assert.equal(t.complete().percent, 100);
  });
});
