/**
 * Two throw-away network namespaces joined by a veth pair, for tests that must send multicast (mDNS)
 * without ever touching the machine's real interfaces. The veth ends are created directly inside the
 * namespaces (never in the root one). Needs root and iproute2; fails loudly otherwise.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NetnsEnd {
  namespace: string;
  device: string;
  address: string;
}

export interface NetnsPair {
  a: NetnsEnd;
  b: NetnsEnd;
  /** Deletes both namespaces (and with them the veth pair). Safe to call twice. */
  remove(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

export async function createNetnsPair(prefix: string): Promise<NetnsPair> {
  const tag = randomBytes(3).toString('hex');
  const subnet = `10.250.${randomInt(0, 256)}`;
  const a: NetnsEnd = {
    namespace: `${prefix}-${tag}-a`,
    device: `bm${tag}a`,
    address: `${subnet}.1`,
  };
  const b: NetnsEnd = {
    namespace: `${prefix}-${tag}-b`,
    device: `bm${tag}b`,
    address: `${subnet}.2`,
  };
  const remove = async (): Promise<void> => {
    for (const end of [a, b])
      await run('ip', ['netns', 'del', end.namespace]).catch(() => undefined);
  };
  try {
    await ip('netns', 'add', a.namespace);
    await ip('netns', 'add', b.namespace);
    await ip(
      '-n',
      a.namespace,
      'link',
      'add',
      a.device,
      'type',
      'veth',
      'peer',
      'name',
      b.device,
      'netns',
      b.namespace,
    );
    for (const end of [a, b]) {
      await ip('-n', end.namespace, 'addr', 'add', `${end.address}/30`, 'dev', end.device);
      await ip('-n', end.namespace, 'link', 'set', 'lo', 'up');
      await ip('-n', end.namespace, 'link', 'set', end.device, 'up', 'multicast', 'on');
      await ip('-n', end.namespace, 'route', 'add', '224.0.0.0/4', 'dev', end.device);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { a, b, remove };
}

/** Runs `node --import tsx <script> ...args` inside `namespace`. */
export function spawnNodeInNetns(
  namespace: string,
  script: string,
  args: string[] = [],
): ChildProcessWithoutNullStreams {
  return spawn(
    'ip',
    ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', script, ...args],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: process.env,
    },
  );
}

/** Collects a child's stdout as JSON lines; `next(predicate)` waits for the first line that matches. */
export class JsonLines {
  private readonly lines: unknown[] = [];
  private readonly waiters: Array<{
    test: (v: unknown) => boolean;
    resolve: (v: unknown) => void;
  }> = [];
  private stderr = '';

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (text.trim() === '') continue;
        const value: unknown = JSON.parse(text);
        this.lines.push(value);
        for (const w of [...this.waiters]) {
          if (w.test(value)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(value);
          }
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
  }

  get errors(): string {
    return this.stderr;
  }

  next<T = Record<string, unknown>>(
    test: (v: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<T> {
    const seen = this.lines.find((v) => test(v as Record<string, unknown>));
    if (seen !== undefined) return Promise.resolve(seen as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching line within ${timeoutMs} ms; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`child exited (${code}) before a matching line; stderr: ${this.stderr}`));
      };
      this.child.once('exit', onExit);
      this.waiters.push({
        test: (v) => test(v as Record<string, unknown>),
        resolve: (v) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolve(v as T);
        },
      });
    });
  }
}
