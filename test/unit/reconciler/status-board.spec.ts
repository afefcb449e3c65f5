/**
 * What the status says before the first round: a held target is not yet known to be applied.
 */
import assert from 'node:assert/strict';
import type { TargetState } from '../../../src/domain/model.js';
import { StatusBoard } from '../../../src/reconciler/status-board.js';
import { silentLogger } from '../../../src/shared/logger.js';

function board(target: TargetState | undefined): StatusBoard {
  return new StatusBoard(
    { target: () => target, downloads: () => [], errors: () => new Map() },
    silentLogger(),
    () => 1_000,
  );
}

const held: TargetState = { name: 'device', config: {}, apps: {} };

describe('status board before the first round', function () {
  it("says 'applying', not 'applied', while a held target has not been observed yet", function () {
    const b = board(held);
    assert.equal(b.status().phase, 'starting');
    assert.equal(b.status().appState, 'applying');
  });

  it("says 'applied' once the first round converged, and when there is nothing to apply", function () {
    const b = board(held);
    b.settle('converged', false, false);
    assert.equal(b.status().appState, 'applied');
    assert.equal(board(undefined).status().appState, 'applied');
  });
});
