/**
 * The soak's figures from its samples file, finished or still running: one-minute medians after change
 * 100, at the end of the changes and at the last sample, the slopes, and how far the run got.
 *
 * Usage: node --import tsx bench/soak-report.ts bench/results/soak.jsonl
 */
import { readFileSync } from 'node:fs';
import { median, medians, WINDOW, type SoakSample } from './soak-stats.js';

const file = process.argv[2] ?? 'bench/results/soak.jsonl';
const lines = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { kind: string } & Partial<SoakSample>);
const samples = lines.filter((l): l is SoakSample & { kind: string } => l.kind === 'sample');
const changing = samples.filter((s) => s.phase === 'changes');
const idle = samples.filter((s) => s.phase === 'idle');
const mib = (v: number | null): string => (v === null ? '–' : v.toFixed(1));
const stats = medians(samples);
console.log(
  JSON.stringify(
    {
      file,
      finished: lines.some((l) => l.kind === 'summary'),
      changesDone: changing.at(-1)?.change ?? 0,
      idleMinutesSampled:
        idle.length > 1 ? Math.round((idle.at(-1)!.at - idle[0]!.at) / 60_000) : 0,
      medianRssEndOfChangesMiB: median(changing.slice(-WINDOW).map((s) => s.rssMiB)),
      maxRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
      ...stats,
    },
    null,
    2,
  ),
);
console.log(
  `| ${mib(stats.medianRssAfter100MiB)} MiB | ${mib(median(changing.slice(-WINDOW).map((s) => s.rssMiB)))} MiB | ${mib(stats.medianRssEndMiB)} MiB | ${stats.medianGrowthSince100MiB === null ? '–' : (stats.medianGrowthSince100MiB >= 0 ? '+' : '') + stats.medianGrowthSince100MiB.toFixed(1)} MiB | ${stats.slopeChangesMiBPerHour.toFixed(1)} MiB/h | ${stats.slopeIdleMiBPerHour.toFixed(1)} MiB/h |`,
);
