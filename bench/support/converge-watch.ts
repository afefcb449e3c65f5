/**
 * How the reconciler benchmark sees the end of an operation, the same way for bosun and for the floor:
 * one engine event stream of its own (opened once, before any run), and an operation has ended when the
 * engine has reported, for the run's owner label, the container `start` events it needs. The end instant
 * is when this process received the last of them. The same watcher, the same stream, the same condition
 * for both sides; what each side's caller learns (bosun's `whenSettled`, the floor's last promise) is
 * reported next to it.
 *
 * Also a bench-only trace of an engine adapter: every method call's start and end on one clock, with the
 * reconciler's rounds and steps, so a run can be read as a timeline (BENCH_TRACE=1).
 */
import { performance } from 'node:perf_hooks';
import type Dockerode from 'dockerode';
import { TEST_LABEL } from '../../test/support/docker.js';

interface Seen {
  at: number;
  owner: string;
  action: string;
  name: string;
}

export class EngineWatch {
  private readonly seen: Seen[] = [];
  private waiters: Array<() => void> = [];
  private stream: NodeJS.ReadableStream | undefined;

  async open(docker: Dockerode): Promise<void> {
    const stream = await docker.getEvents({
      filters: { type: ['container'], event: ['start'] },
    });
    this.stream = stream;
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      const at = performance.now();
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line === '') continue;
        const e = JSON.parse(line) as {
          Action: string;
          Actor: { Attributes: Record<string, string> };
        };
        const attrs = e.Actor.Attributes;
        const owner = attrs[TEST_LABEL];
        if (owner === undefined) continue;
        this.seen.push({ at, owner, action: e.Action, name: attrs['name'] ?? '' });
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the receipt time of the `count`-th start of `owner`'s containers after `since`. */
  async starts(owner: string, since: number, count: number, timeoutMs = 60_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const mine = this.seen.filter((s) => s.owner === owner && s.at >= since);
      if (mine.length >= count) return mine[count - 1]!.at;
      if (performance.now() > deadline)
        throw new Error(`only ${mine.length} of ${count} starts of ${owner} seen`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000).unref();
      });
    }
  }

  close(): void {
    (this.stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }
}

export interface TraceEntry {
  at: number;
  end?: number;
  what: string;
}

/** Wraps an object so each method call (promise or not) is recorded with its start and end. */
export function traced<T extends object>(target: T, log: TraceEntry[], prefix: string): T {
  return new Proxy(target, {
    get(t, property, receiver) {
      const value: unknown = Reflect.get(t, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const entry: TraceEntry = { at: performance.now(), what: `${prefix}.${String(property)}` };
        log.push(entry);
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(t, args);
        if (result instanceof Promise)
          return result.finally(() => {
            entry.end = performance.now();
          });
        entry.end = entry.at;
        return result;
      };
    },
  });
}

/** The timeline as text, times relative to `origin` in ms. */
export function formatTrace(log: TraceEntry[], origin: number): string {
  return [...log]
    .sort((a, b) => a.at - b.at)
    .map((e) => {
      const from = (e.at - origin).toFixed(1).padStart(7);
      const to = e.end === undefined ? '      …' : (e.end - origin).toFixed(1).padStart(7);
      return `${from} → ${to}  ${e.what}`;
    })
    .join('\n');
}
