/**
 * journalctl arguments for POST /v2/journal-logs (docs/protocol.md#journal-logs); `--opt=value` so no value
 * reads as a flag.
 */
import type { JournalLogsBody } from '../api/agent-api.js';

export function journalctlArgs(o: JournalLogsBody): string[] {
  const args: string[] = ['--no-pager'];
  if (o.all === true) args.push('--all');
  if (o.follow === true) args.push('--follow');
  if (o.unit !== undefined) args.push(`--unit=${o.unit}`);
  if (o.containerId !== undefined) args.push(`--identifier=${o.containerId}`);
  if (o.count !== undefined) args.push(`--lines=${o.count}`);
  if (o.since !== undefined) args.push(`--since=${o.since}`);
  if (o.until !== undefined) args.push(`--until=${o.until}`);
  args.push(`--output=${o.format}`);
  return args;
}
