/**
 * What each runtime dependency costs in memory and load time on its own, to find where the agent's RSS
 * above bare Node goes.
 *
 * Method: for each module, a fresh `node --max-semi-space-size=1 --expose-gc` imports it (as the bundle
 * would: the package's main entry), runs a full GC, waits 2 s, runs another and prints RSS, heap used
 * and external memory; bare Node doing the same with no import is the floor. Each is run `--runs`
 * times, alternating, and the medians of the differences to the floor are printed. Standalone
 * imports load each package's own module files; inside the bundle the same code costs less (shared
 * helpers, tree-shaking), so the rows rank candidates rather than add up to the agent's figure.
 *
 * Usage: node --import tsx bench/module-memory.ts [--runs 3]
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;
const modules = [
  'zod',
  'express',
  'knex',
  'better-sqlite3',
  'pino',
  'systeminformation',
  'bonjour-service',
  'multicast-dns',
];

const probe = (spec: string | undefined): string => `
const t0 = process.hrtime.bigint();
${spec === undefined ? '' : `await import(${JSON.stringify(spec)});`}
const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
globalThis.gc(); await new Promise((r) => setTimeout(r, 2000)); globalThis.gc();
const m = process.memoryUsage();
console.log(JSON.stringify({ loadMs, rss: m.rss, heapUsed: m.heapUsed, external: m.external }));
`;

interface Figures {
  loadMs: number;
  rss: number;
  heapUsed: number;
  external: number;
}

function measure(spec: string | undefined): Figures {
  const out = spawnSync(
    process.execPath,
    ['--max-semi-space-size=1', '--expose-gc', '--input-type=module', '-e', probe(spec)],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`${spec ?? 'floor'}: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop() as string) as Figures;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

console.log('| module | load ms | RSS above bare Node (MiB) | heap used (MiB) | external (MiB) |');
console.log('|---|---|---|---|---|');
for (const spec of modules) {
  const deltas: Figures[] = [];
  for (let i = 0; i < runs; i++) {
    const floor = measure(undefined);
    const with_ = measure(spec);
    deltas.push({
      loadMs: with_.loadMs,
      rss: with_.rss - floor.rss,
      heapUsed: with_.heapUsed - floor.heapUsed,
      external: with_.external - floor.external,
    });
  }
  const pick = (k: keyof Figures): number => median(deltas.map((d) => d[k]));
  console.log(
    `| ${spec} | ${pick('loadMs').toFixed(0)} | ${mib(pick('rss'))} | ${mib(pick('heapUsed'))} | ${mib(pick('external'))} |`,
  );
}
