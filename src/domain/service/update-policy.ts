/**
 * Update behaviour chosen by labels (docs/protocol.md#update-strategies, docs/protocol.md#labels); labels
 * must already be aliased from io.resin.*.
 */
import type { IssueCollector } from '../issues.js';
import type { UpdateStrategy } from '../model.js';
import { isTruthyLabel } from '../names.js';

export const DEFAULT_UPDATE_STRATEGY: UpdateStrategy = 'download-then-kill';
export const DEFAULT_HANDOVER_TIMEOUT_MS = 60_000;

const STRATEGIES = new Set<string>([
  'download-then-kill',
  'kill-then-download',
  'delete-then-download',
  'hand-over',
]);

export interface UpdatePolicy {
  updateStrategy: UpdateStrategy;
  handoverTimeoutMs: number;
  requiresReboot: boolean;
}

/** Invalid values fall back to the defaults with a warning (the cloud fills these from config vars). */
export function updatePolicy(
  labels: Readonly<Record<string, string>>,
  warnings: IssueCollector,
): UpdatePolicy {
  const strategyLabel = labels['io.balena.update.strategy'];
  let updateStrategy = DEFAULT_UPDATE_STRATEGY;
  if (strategyLabel !== undefined) {
    if (STRATEGIES.has(strategyLabel)) updateStrategy = strategyLabel as UpdateStrategy;
    else
      warnings.warn(
        ['labels', 'io.balena.update.strategy'],
        `"${strategyLabel}" is not an update strategy; using ${DEFAULT_UPDATE_STRATEGY}`,
      );
  }
  const timeoutLabel = labels['io.balena.update.handover-timeout'];
  let handoverTimeoutMs = DEFAULT_HANDOVER_TIMEOUT_MS;
  if (timeoutLabel !== undefined) {
    if (/^\d{1,10}$/.test(timeoutLabel.trim())) handoverTimeoutMs = Number(timeoutLabel.trim());
    else
      warnings.warn(
        ['labels', 'io.balena.update.handover-timeout'],
        `"${timeoutLabel}" is not a number of milliseconds; using ${DEFAULT_HANDOVER_TIMEOUT_MS}`,
      );
  }
  return {
    updateStrategy,
    handoverTimeoutMs,
    requiresReboot: isTruthyLabel(labels['io.balena.update.requires-reboot']),
  };
}
