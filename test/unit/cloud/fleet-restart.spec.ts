/** 1,000 devices restarting together poll over the jitter window, not in one burst (fake clock). */
import assert from 'node:assert/strict';
import { simulateFleetRestart } from '../../support/cloud-fleet-sim.js';

describe('cloud polling: a fleet restarting at the same moment', function () {
  it('spreads 1,000 first polls over the 60 s jitter window', async function () {
    const result = await simulateFleetRestart(1_000, 60_000, 7);
    assert.equal(result.firstPolls.length, 1_000, 'every device polled');
    assert.ok((result.firstPolls[0] ?? 0) < 1_000, 'the first poll comes at once');
    assert.ok((result.firstPolls.at(-1) ?? 0) <= 60_000, 'the last within the window');
    assert.ok(result.spreadMs > 55_000, `spread ${result.spreadMs} ms`);
    // Uniform over 60 one-second slots: ~17 per second; a burst would put them all in one.
    assert.ok(result.peakPerSecond < 40, `peak ${result.peakPerSecond} per second`);
  });
});
