/**
 * Which mode the agent starts in and whether its cloud client runs (src/agent/wire-local-mode.ts), over a
 * real store on a temporary SQLite file: BOSUN_LOCAL_MODE pins the mode, an unmanaged device never runs
 * the cloud client, and a managed one starts in the mode its stored cloud target's SUPERVISOR_LOCAL_MODE says.
 */
import assert from 'node:assert/strict';
import { wireLocalMode, type LocalModeWiringDeps } from '../../../src/agent/wire-local-mode.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { openTempStore, type TempStore } from '../../support/store-temp-store.js';

const ENDPOINT = 'https://api.example.test';

describe('wireLocalMode: the mode at start and the cloud client', () => {
  let temp: TempStore;
  beforeEach(async () => (temp = await openTempStore()));
  afterEach(() => temp.dispose());

  function deps(over: Partial<LocalModeWiringDeps>): LocalModeWiringDeps {
    return {
      env: {},
      settingsLocalMode: false,
      apiEndpoint: ENDPOINT,
      targets: temp.store.targets,
      runPlan: () => Promise.reject(new Error('no plan expected')),
      announce: () => undefined,
      logger: silentLogger(),
      ...over,
    };
  }

  it('an unmanaged device keeps the mode its settings say and runs no cloud client', async () => {
    for (const settingsLocalMode of [true, false]) {
      const w = await wireLocalMode(deps({ apiEndpoint: undefined, settingsLocalMode }));
      assert.equal(w.modeSwitch.localMode, settingsLocalMode);
      assert.equal(w.cloudRuns, false);
      assert.deepEqual(w.cloudOrigin, { kind: 'cloud', endpoint: '' });
    }
  });

  it('BOSUN_LOCAL_MODE pins the mode over the stored cloud target; pinned to local mode, no cloud client', async () => {
    await temp.store.targets.save(
      { kind: 'cloud', endpoint: ENDPOINT },
      { name: 'd', config: { SUPERVISOR_LOCAL_MODE: 'false' }, apps: {} },
    );
    const pinnedLocal = await wireLocalMode(
      deps({ env: { BOSUN_LOCAL_MODE: 'true' }, settingsLocalMode: true }),
    );
    assert.equal(pinnedLocal.modeSwitch.localMode, true);
    assert.equal(pinnedLocal.cloudRuns, false);
    const pinnedCloud = await wireLocalMode(deps({ env: { BOSUN_LOCAL_MODE: 'false' } }));
    assert.equal(pinnedCloud.modeSwitch.localMode, false);
    assert.equal(pinnedCloud.cloudRuns, true);
  });

  it('a managed device starts in the mode of its stored cloud target, and its cloud client runs', async () => {
    await temp.store.targets.save(
      { kind: 'cloud', endpoint: ENDPOINT },
      { name: 'd', config: { SUPERVISOR_LOCAL_MODE: '1' }, apps: {} },
    );
    let plans = 0;
    const runPlan: LocalModeWiringDeps['runPlan'] = () => {
      plans++;
      return Promise.resolve([]);
    };
    const w = await wireLocalMode(deps({ runPlan }));
    assert.equal(w.modeSwitch.localMode, true);
    assert.equal(w.cloudRuns, true);
    assert.deepEqual(w.cloudOrigin, { kind: 'cloud', endpoint: ENDPOINT });
    // In local mode at start there is nothing to leave: the local target stays, no plan is run.
    await temp.store.targets.save({ kind: 'local' }, { name: 'd', config: {}, apps: {} });
    await w.leaveAtStart();
    assert.equal(plans, 0);
    assert.notEqual(await temp.store.targets.load({ kind: 'local' }), undefined);
  });

  it('outside local mode at start, the local target left behind is cleaned up through a plan', async () => {
    await temp.store.targets.save({ kind: 'local' }, { name: 'd', config: {}, apps: {} });
    const asked: boolean[] = [];
    const w = await wireLocalMode(
      deps({
        env: { BOSUN_LOCAL_MODE: 'false' },
        runPlan: (_build, options) => {
          asked.push(options.dropTarget);
          return Promise.resolve([]);
        },
      }),
    );
    await w.leaveAtStart();
    assert.equal(await temp.store.targets.load({ kind: 'local' }), undefined);
    assert.deepEqual(asked, [true], 'one one-off plan, run without a target');
  });
});
