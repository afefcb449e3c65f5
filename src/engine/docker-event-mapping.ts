/**
 * One line of `GET /events` → EngineEvent. The engine merges a container's labels with its own
 * attributes (name, image, exitCode, signal, …) in `Actor.Attributes`; the known engine keys are taken
 * out so `labels` holds labels (a user label literally called `image` or `name` is lost: an engine quirk).
 */
import { parseJsonObject } from './json-lines.js';
import type { EngineEvent } from './port.js';

const ENGINE_ATTRIBUTES = new Set([
  'name',
  'image',
  'exitCode',
  'signal',
  'execID',
  'oldName',
  'container',
]);

export interface ParsedEngineEvent {
  event: EngineEvent;
  /** The engine's nanosecond timestamp (exact: JSON numbers lose the last digits), for resuming. */
  timeNano: bigint | undefined;
}

export function parseEngineEvent(line: string): ParsedEngineEvent | undefined {
  const raw = parseJsonObject(line);
  if (raw === undefined) return undefined;
  const type = raw['Type'];
  const action = raw['Action'];
  const actor = raw['Actor'] as { ID?: unknown; Attributes?: unknown } | undefined;
  if (typeof type !== 'string' || typeof action !== 'string' || typeof actor?.ID !== 'string')
    return undefined;
  const nanoMatch = /"timeNano"\s*:\s*(\d+)/.exec(line);
  const timeNano = nanoMatch?.[1] === undefined ? undefined : BigInt(nanoMatch[1]);
  const time =
    timeNano === undefined ? Number(raw['time'] ?? 0) * 1000 : Number(timeNano / 1_000_000n);
  const attributes = stringRecord(actor.Attributes);
  let event: EngineEvent;
  switch (type) {
    case 'container': {
      const labels: Record<string, string> = {};
      for (const [key, value] of Object.entries(attributes))
        if (!ENGINE_ATTRIBUTES.has(key)) labels[key] = value;
      event = { type, action, id: actor.ID, name: attributes['name'], labels, time };
      const exitCode = attributes['exitCode'];
      if (exitCode !== undefined && /^-?\d+$/.test(exitCode)) event.exitCode = Number(exitCode);
      if (attributes['signal'] !== undefined) event.signal = attributes['signal'];
      break;
    }
    case 'image':
    case 'network':
    case 'volume':
      event = { type, action, id: actor.ID, time };
      break;
    default:
      return undefined; // daemon, plugin, swarm events: nothing bosun acts on
  }
  return { event, timeNano };
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}
