/**
 * The soak's arithmetic, shared by bench/soak.ts (its summary line) and bench/soak-report.ts (the same
 * figures from a samples file, finished or not).
 */
export interface SoakSample {
  at: number;
  phase: 'changes' | 'idle';
  change: number;
  rssMiB: number;
}

/** One minute of samples: one 10 s sample swings by ±2 MiB with where the GC cycle happens to be. */
export const WINDOW = 6;

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const ys = [...values].sort((a, b) => a - b);
  const mid = ys.length >> 1;
  return ys.length % 2 === 1 ? ys[mid]! : (ys[mid - 1]! + ys[mid]!) / 2;
}

/** Least-squares slope of RSS against time, MiB per hour. */
export function slope(points: SoakSample[]): number {
  if (points.length < 2) return 0;
  const xs = points.map((p) => (p.at - points[0]!.at) / 3_600_000);
  const ys = points.map((p) => p.rssMiB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The one-minute medians the aim is judged on: from change 100 on, and the last minute sampled. */
export function medians(samples: SoakSample[]): {
  medianRssAfter100MiB: number | null;
  medianRssEndMiB: number | null;
  medianGrowthSince100MiB: number | null;
  slopeChangesMiBPerHour: number;
  slopeIdleMiBPerHour: number;
} {
  const after100 = median(
    samples
      .filter((s) => s.change >= 100)
      .slice(0, WINDOW)
      .map((s) => s.rssMiB),
  );
  const end = median(samples.slice(-WINDOW).map((s) => s.rssMiB));
  return {
    medianRssAfter100MiB: after100,
    medianRssEndMiB: end,
    medianGrowthSince100MiB: after100 !== null && end !== null ? end - after100 : null,
    slopeChangesMiBPerHour: slope(samples.filter((s) => s.phase === 'changes' && s.change >= 100)),
    slopeIdleMiBPerHour: slope(samples.filter((s) => s.phase === 'idle')),
  };
}
