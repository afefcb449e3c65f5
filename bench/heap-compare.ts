/**
 * Compares two V8 heap snapshots (e.g. the soak's at change 100 and 400): for each (node type, name)
 * group — constructor name for objects, function name for closures, "(string)" for strings — the count
 * and self size in both and the difference, largest growth first. Strings are grouped by their first
 * 40 characters in a second table so that a growing family of keys (container ids, commits) shows up.
 *
 * Usage: node --import tsx bench/heap-compare.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top 40]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}
interface Group {
  count: number;
  size: number;
}

function groups(path: string): { byName: Map<string, Group>; strings: Map<string, Group> } {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byName = new Map<string, Group>();
  const strings = new Map<string, Group>();
  const add = (map: Map<string, Group>, key: string, size: number): void => {
    const g = map.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += size;
    map.set(key, g);
  };
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const name = snap.strings[snap.nodes[i + nameAt]!]!;
    const size = snap.nodes[i + sizeAt]!;
    const isString =
      type === 'string' || type === 'concatenated string' || type === 'sliced string';
    add(byName, isString ? `(${type})` : `${type}:${name.slice(0, 60)}`, size);
    if (isString)
      add(
        strings,
        name
          .slice(0, 40)
          .replace(/[0-9a-f]{12,}/g, '<hex>')
          .replace(/\d+/g, 'N'),
        size,
      );
  }
  return { byName, strings };
}

function table(title: string, a: Map<string, Group>, b: Map<string, Group>, top: number): void {
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows = [...keys].map((k) => {
    const x = a.get(k) ?? { count: 0, size: 0 };
    const y = b.get(k) ?? { count: 0, size: 0 };
    return { k, dCount: y.count - x.count, dSize: y.size - x.size, count: y.count, size: y.size };
  });
  rows.sort((p, q) => q.dSize - p.dSize);
  const total = (m: Map<string, Group>): number => [...m.values()].reduce((s, g) => s + g.size, 0);
  console.log(
    `\n## ${title}: total ${(total(a) / 1048576).toFixed(2)} → ${(total(b) / 1048576).toFixed(2)} MiB`,
  );
  console.log('| group | Δ count | Δ bytes | count after | bytes after |');
  console.log('|---|---|---|---|---|');
  for (const r of rows.slice(0, top))
    console.log(`| ${JSON.stringify(r.k)} | ${r.dCount} | ${r.dSize} | ${r.count} | ${r.size} |`);
}

const [before, after] = process.argv.slice(2).filter((a) => a.endsWith('.heapsnapshot'));
if (before === undefined || after === undefined)
  throw new Error('usage: heap-compare BEFORE AFTER');
const topAt = process.argv.indexOf('--top');
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 40;
const a = groups(before);
const b = groups(after);
table('by type and name', a.byName, b.byName, top);
table('strings by prefix', a.strings, b.strings, top);
