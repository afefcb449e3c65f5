/**
 * `bosun plan` output: a heading that says which target and that nothing was changed, the planner's own
 * text of the plan (planner/render.ts: one line per step with what it waits for and why, then one per
 * blocker), and the downloads. Pure, so golden tests pin it.
 */
import type { PlanPreviewView } from '../api/plan-schemas.js';

export function renderPlanPreview(view: PlanPreviewView): string {
  const which = view.target === 'stored' ? 'the stored target' : 'the given target';
  if (view.converged) return `Nothing to do for ${which}: the device already runs it.\n`;
  const counts = [plural(view.steps.length, 'step'), plural(view.blockers.length, 'blocker')].join(
    ', ',
  );
  // The planner's text, with each blocker's deadline also as a date (the planner writes epoch ms).
  const steps = view.text.split('\n').filter((l) => l !== '' && !l.startsWith('blocked: '));
  const blockers = view.blockers.map(
    (b) => `blocked: ${b.text}${b.until === null ? '' : ` (${new Date(b.until).toISOString()})`}`,
  );
  const lines = [`Plan for ${which} (${counts}; nothing was changed):`, ...steps, ...blockers];
  if (view.downloads.length > 0) {
    const size =
      view.downloadBytes === null ? 'size not known' : `${formatBytes(view.downloadBytes)}`;
    lines.push(`Downloads: ${plural(view.downloads.length, 'image')} (${size})`);
    for (const d of view.downloads)
      lines.push(`  ${d.image}${d.bytes === null ? '' : ` ${formatBytes(d.bytes)}`}`);
  }
  return `${lines.join('\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit] ?? 'TiB'}`;
}
