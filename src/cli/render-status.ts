/**
 * `bosun status` as text: the same view and the same words as the dashboard (GET /dashboard/state),
 * laid out for a terminal. Pure, so a unit test pins the layout.
 */
import type { DashboardView } from '../api/dashboard-types.js';

export function renderStatus(view: DashboardView): string {
  const d = view.device;
  const lines = [
    `${d.name} · ${d.mode === 'local' ? 'local mode' : 'cloud'} · bosun ${d.version}`,
    view.summary,
    `  uuid ${d.uuid || '(not provisioned)'} · ${d.deviceType} · ${d.os}`,
    `  connectivity: ${d.connectivity}`,
    `  addresses: ${d.ipAddresses.join(', ') || 'none'}`,
  ];
  if (view.apps.length === 0) lines.push('', 'No apps yet.');
  for (const app of view.apps) {
    lines.push(
      '',
      `${app.name} (${app.updateStatus}${app.commit ? ` · ${app.commit.slice(0, 7)}` : ''})`,
    );
    if (app.waiting !== undefined) lines.push(`  ${app.waiting}`);
    if (app.release !== undefined) lines.push(`  ${app.release}`);
    const width = Math.max(...app.services.map((s) => s.name.length), 4);
    for (const s of app.services) {
      const facts = [
        s.containerId ? `container ${s.containerId.slice(0, 12)}` : 'no container',
        s.health !== 'none' ? s.health : undefined,
        `${s.restartCount} restart${s.restartCount === 1 ? '' : 's'}`,
      ].filter((f) => f !== undefined);
      lines.push(`  ${s.name.padEnd(width)}  ${s.state.padEnd(11)} ${facts.join(' · ')}`);
      if (s.waiting !== undefined) lines.push(`  ${' '.repeat(width)}  ${s.waiting}`);
      if (s.error !== undefined) lines.push(`  ${' '.repeat(width)}  error: ${s.error}`);
    }
  }
  if (view.plan.length > 0) {
    lines.push('', 'Current plan:');
    view.plan.forEach((step, i) => lines.push(`  ${i + 1}. ${step}`));
  }
  return `${lines.join('\n')}\n`;
}
