/**
 * Issue 8, "many services wedge the agent", end to end: the built agent process, driven through its
 * local API on the real engine, converges one app of 60 chatty services (60 log follows open), then an
 * env change of all 60, then 60 services over 6 apps. Before the fix, the log follows took every socket
 * of the engine client's shared pool and the first phase never finished. Timing and memory numbers are
 * bench/scale.ts's job (BENCHMARKS.md); here only convergence, the env, and a loose memory ceiling.
 */
import assert from 'node:assert/strict';
import { testDocker, uniquePrefix, type SeenContainer } from '../support/docker.js';
import { processMemoryMiB, scaleBody, scalePhases, waitConverged } from './support/scale.js';
import { suiteAgent } from './support/suite-agent.js';

/** Far above the ~100 MiB the agent needs at this size; catches a whole-file read or unbounded queue. */
const RSS_CEILING_MIB = 400;
const PHASE_TIMEOUT_MS = 240_000;

describe('agent process: 60 services (issue 8)', function () {
  this.timeout(900_000);
  const prefix = uniquePrefix('e2e-scale');
  const phases = scalePhases(60_000 + Math.floor(Math.random() * 20_000));
  const agent = suiteAgent(prefix);
  let previous: SeenContainer[] = [];

  for (const [index, phase] of phases.entries()) {
    it(`converges: ${phase.name}`, async () => {
      const a = agent();
      await a.postLocalTarget(scaleBody(prefix, phase.apps));
      // Phase 2 keeps names (same commit): every container must be a new one.
      const replaced = new Set(index === 1 ? previous.map((c) => c.id) : []);
      const seen = await waitConverged(prefix, phase, replaced, PHASE_TIMEOUT_MS, async () => {
        const status = await fetch(`${a.url}/v2/state/status`).then(
          async (r) => r.text(),
          (error: unknown) => String(error),
        );
        return `status ${status}\n${a.output().slice(-3000)}`;
      });
      const sample = seen[Math.floor(seen.length / 2)]!;
      const env = (await testDocker().getContainer(sample.id).inspect()).Config.Env;
      assert.ok(env.includes(`VERSION=${phase.apps[0]!.version}`), JSON.stringify(env));
      const status = (await (await fetch(`${a.url}/v2/state/status`)).json()) as {
        appState: string;
      };
      assert.ok(['applied', 'applying'].includes(status.appState), JSON.stringify(status));
      const memory = processMemoryMiB(a.child!.pid!);
      assert.ok(memory.rssMiB < RSS_CEILING_MIB, `agent RSS ${memory.rssMiB.toFixed(0)} MiB`);
      previous = seen;
    });
  }
});
