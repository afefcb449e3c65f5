import assert from 'node:assert/strict';
import {
  DISK_BYTES_PER_COMPRESSED_BYTE as K,
  estimateDownloadBytes,
  reclaimableBytes,
} from '../../../src/reconciler/storage-estimate.js';

describe('disk preflight estimates', () => {
  const layers = [
    { digest: 'sha256:c1', size: 100 },
    { digest: 'sha256:c2', size: 1000 },
    { digest: 'sha256:c3', size: 10 },
  ];

  it('counts missing layers only, each compressed byte as DISK_BYTES_PER_COMPRESSED_BYTE on disk', () => {
    const image = { layers, diffIds: ['sha256:u1', 'sha256:u2', 'sha256:u3'] };
    assert.equal(estimateDownloadBytes(image, new Set()), 1110 * K);
    assert.equal(estimateDownloadBytes(image, new Set(['sha256:u1', 'sha256:u3'])), 1000 * K);
    assert.equal(estimateDownloadBytes(image, new Set(['sha256:u1', 'sha256:u2', 'sha256:u3'])), 0);
  });

  it('counts a layer listed twice once, and every layer when manifest and config disagree', () => {
    const twice = {
      layers: [...layers, layers[1]!],
      diffIds: ['sha256:u1', 'sha256:u2', 'sha256:u3', 'sha256:u2'],
    };
    assert.equal(estimateDownloadBytes(twice, new Set()), 1110 * K);
    const skewed = { layers, diffIds: ['sha256:u1'] };
    assert.equal(estimateDownloadBytes(skewed, new Set(['sha256:u1'])), 1110 * K);
  });

  it('gives back an image less what other images sharing its layers may hold', () => {
    const freed = reclaimableBytes([
      { id: 'base', size: 10, layers: ['b'] },
      { id: 'app1', size: 110, layers: ['b', 'x'] },
      { id: 'alone', size: 50, layers: ['y'] },
      { id: 'big', size: 500, layers: ['z'] },
      { id: 'onbig', size: 520, layers: ['z', 'w'] },
      { id: 'empty', size: 7, layers: [] },
    ]);
    assert.deepEqual(freed, { base: 0, app1: 100, alone: 50, big: 0, onbig: 20, empty: 0 });
  });
});
