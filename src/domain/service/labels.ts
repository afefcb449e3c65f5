/**
 * Container labels (docs/protocol.md#labels): user labels, `io.resin.*` aliased to `io.balena.*`, identity
 * injected.
 */
import { setOwn } from '../records.js';

export interface LabelIdentity {
  appId: number;
  appUuid: string;
  serviceId: number;
  serviceName: string;
}

/**
 * Copies every `io.resin.*` label to its `io.balena.*` name (every `resin` in the key becomes `balena`,
 * so `io.resin.features.resin-api` → `io.balena.features.balena-api`); an explicit `io.balena.*` wins.
 */
export function aliasResinLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith('io.resin.')) continue;
    const alias = key.replaceAll('resin', 'balena');
    if (!Object.hasOwn(out, alias)) setOwn(out, alias, value);
  }
  return out;
}

/** Labels for a service container: the identity labels override anything the user set. */
export function serviceLabels(
  userLabels: Readonly<Record<string, string>>,
  id: LabelIdentity,
): Record<string, string> {
  const labels = aliasResinLabels(userLabels);
  setOwn(labels, 'io.balena.supervised', 'true');
  setOwn(labels, 'io.balena.app-id', String(id.appId));
  setOwn(labels, 'io.balena.app-uuid', id.appUuid);
  setOwn(labels, 'io.balena.service-id', String(id.serviceId));
  setOwn(labels, 'io.balena.service-name', id.serviceName);
  return labels;
}
