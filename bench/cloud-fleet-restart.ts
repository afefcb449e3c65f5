/**
 * 1,000 devices restarting at the same moment (a power cut ending): when do their first target polls
 * reach the cloud? Fake clock, no engine, no network: bosun's real TargetPoller per device against an
 * in-memory cloud (test/support/cloud-fleet-sim.ts). The floor is the burst without jitter: every poll in
 * the same second.
 * Usage: npx tsx bench/cloud-fleet-restart.ts [--devices 1000] [--jitter-ms 60000] [--seed 1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { simulateFleetRestart } from '../test/support/cloud-fleet-sim.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

const devices = arg('devices', 1000);
const jitterMs = arg('jitter-ms', 60_000);
const seed = arg('seed', 1);
const result = await simulateFleetRestart(devices, jitterMs, seed);
const quantile = (q: number): number =>
  result.firstPolls[
    Math.min(result.firstPolls.length - 1, Math.floor(q * result.firstPolls.length))
  ] ?? 0;
const summary = {
  devices,
  jitterMs,
  seed,
  firstPollMs: {
    min: result.firstPolls[0],
    p10: quantile(0.1),
    p50: quantile(0.5),
    p90: quantile(0.9),
    max: result.firstPolls.at(-1),
  },
  spreadMs: result.spreadMs,
  peakPerSecond: result.peakPerSecond,
  meanPerSecond: Math.round((devices / (jitterMs / 1000)) * 10) / 10,
  floorPeakPerSecond: devices,
};
console.log(JSON.stringify(summary, null, 2));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/cloud-fleet-restart.json', JSON.stringify(summary, null, 2));
