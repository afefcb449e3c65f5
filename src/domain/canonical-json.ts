/** JSON with object keys sorted at every level: equal values always serialise to equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** A copy with object keys in sorted order; `undefined` members dropped, as JSON.stringify does. */
function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value === undefined ? null : value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const record = value as Record<string, unknown>;
  const entries: Array<[string, unknown]> = [];
  for (const key of Object.keys(record).sort()) {
    const child = record[key];
    if (child !== undefined) entries.push([key, sortKeys(child)]);
  }
  // fromEntries keeps insertion order for non-integer keys; integer-like keys ("80") are ordered by
  // number first by every engine, which is still one deterministic order.
  return Object.fromEntries(entries);
}
