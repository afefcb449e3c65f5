/**
 * Slow readers of `/v2/local/logs` (issue 8's attack): each opens its own connection, takes the 200
 * answer's headers and then stops reading, so the agent's socket buffers and queues fill. A 503 answer
 * is read to its end (it is the refusal the bound gives). Used by test/e2e/log-readers.spec.ts and
 * bench/log-readers.ts.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';

export interface SlowReaders {
  accepted: number;
  refused: number;
  /** The body of one refusal, to check its shape. */
  refusal: string | undefined;
  close(): void;
}

function openOne(
  url: URL,
): Promise<{ status: number; body: string; req: http.ClientRequest; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: url.hostname, port: url.port, path: '/v2/local/logs', agent: false },
      (res) => {
        if (res.statusCode === 200) {
          res.pause(); // the slow part: never read again
          resolve({ status: 200, body: '', req, res });
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, req, res }));
      },
    );
    req.on('error', reject);
  });
}

export async function openSlowReaders(base: string, count: number): Promise<SlowReaders> {
  const url = new URL(base);
  const open: http.ClientRequest[] = [];
  let accepted = 0;
  let refused = 0;
  let refusal: string | undefined;
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, () => openOne(url)),
    );
    for (const r of batch) {
      if (r.status === 200) {
        accepted++;
        open.push(r.req);
      } else if (r.status === 503) {
        refused++;
        refusal ??= r.body;
      } else throw new Error(`unexpected ${r.status} from /v2/local/logs: ${r.body}`);
    }
  }
  return {
    accepted,
    refused,
    refusal,
    close: () => {
      for (const req of open) req.destroy();
    },
  };
}

/** Resident memory of a process in bytes (VmRSS from /proc). */
export function rssBytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (line === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) * 1024;
}

/** A service that writes ~2,000 lines of ~100 bytes a second, for as long as it runs. */
export const BUSY_LOG_COMMAND = [
  'sh',
  '-c',
  'trap "exit 0" TERM; n=0; while true; do i=0; while [ $i -lt 100 ]; do echo "busy line $n.$i ................................................................"; i=$((i+1)); done; n=$((n+1)); sleep 0.05 & wait $!; done',
];
