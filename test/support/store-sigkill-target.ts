/** What the SIGKILL writer writes and the spec checks: self-verifying targets. */
import { createHash } from 'node:crypto';
import type { JsonObject, StoredTarget } from '../../src/store/ports.js';

export const WRITER_ORIGIN = { kind: 'cloud', endpoint: 'https://sigkill.example.test' } as const;

export function checksum(payload: string): string {
  return createHash('sha256').update(payload).digest('hex');
}

/** Target number `seq`: 1–17 apps of 10 B–30 KB each, every app carrying `seq` and its payload's checksum. */
export function makeTarget(seq: number): StoredTarget {
  const appCount = 1 + (seq % 17);
  const apps: Record<string, JsonObject> = {};
  for (let i = 0; i < appCount; i++) {
    const payload = `${seq}:${i}:`.padEnd(((seq * 7919 + i * 104729) % 30000) + 10, 'x');
    apps[`app${i}`] = { seq, index: i, payload, checksum: checksum(payload) };
  }
  return { name: `device-${seq}`, config: { SEQ: String(seq), APPS: String(appCount) }, apps };
}
