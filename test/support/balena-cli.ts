/**
 * What `balena push <ip> --nolive --detached` sends, replayed byte for byte where it matters
 * (docs/protocol.md#balena-push): the supervisor calls with the CLI's headers and its response rules (JSON
 * only under application/json, success only on exactly 200), the classic-builder `POST /build` per service
 * with the CLI's query and headers, and the target state the CLI generates from a compose project.
 */
import http from 'node:http';
import { DOCKER_SOCKET } from './docker.js';

/** balena-request's headers as observed; the Bearer token is what a logged-in CLI adds (local mode must ignore it). */
export const CLI_HEADERS = {
  accept: '*/*',
  'accept-encoding': 'compress, gzip',
  'accept-language': '*',
  'sec-fetch-mode': 'cors',
  'user-agent': 'node',
  authorization: 'Bearer balena-cloud-session-token-the-device-does-not-know',
} as const;

export class CliRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One supervisor call as `DeviceAPI.sendRequest` makes it: throws on ≥400 (message from the body),
 * returns the body only for 200 (parsed only under application/json), and throws for any other status
 * (where the CLI would go on with `undefined` and crash).
 */
export async function cliCall(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...CLI_HEADERS,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  const parsed: unknown = json ? JSON.parse(text) : text;
  if (res.status >= 400) {
    const message =
      json && typeof parsed === 'object' && parsed !== null && 'message' in parsed
        ? String(parsed.message)
        : text;
    throw new CliRequestError(res.status, `${method} ${path}: ${res.status} ${message}`);
  }
  if (res.status !== 200)
    throw new CliRequestError(
      res.status,
      `${method} ${path}: ${res.status} is not 200; the CLI would crash on undefined`,
    );
  return parsed;
}

/** `a.b.c` semver ≥ `x.y.z`, the CLI's version gate. */
export function semverAtLeast(version: string, minimum: string): boolean {
  const a = version.split(/[.+-]/).map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

// ───────────────────────────── docker (the device's engine) ─────────────────────────────

function engineRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: DOCKER_SOCKET, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (body) {
      // The CLI streams the tar chunked; so do we.
      req.write(body.subarray(0, Math.ceil(body.length / 2)));
      req.end(body.subarray(Math.ceil(body.length / 2)));
    } else req.end();
  });
}

/** Step 4: every image id becomes a `cachefrom` entry. */
export async function engineImageIds(): Promise<string[]> {
  const res = await engineRequest('GET', '/images/json?all=true');
  return (JSON.parse(res.text) as Array<{ Id: string }>).map((i) => i.Id);
}

/** Step 5: the CLI reads Arch and ApiVersion. */
export async function engineVersion(): Promise<{ Arch: string; ApiVersion: string }> {
  return JSON.parse((await engineRequest('GET', '/version')).text) as {
    Arch: string;
    ApiVersion: string;
  };
}

/** A ustar archive of small text files (what the CLI tars from each service's build context). */
export function tarFiles(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text, 'utf8');
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148); // checksum placeholder: spaces while summing
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/**
 * Step 7 (the build request, docs/protocol.md#balena-push): `POST /build` as the CLI sends it, parsed as @balena/compose does: any `{"error"}` line
 * fails the build; the image id is the last ` ---> <hex>` arrow line.
 */
export async function buildLikeCli(
  service: string,
  context: Buffer,
  cacheFrom: string[],
): Promise<{ imageId: string; output: string }> {
  const query = new URLSearchParams({
    cachefrom: JSON.stringify(cacheFrom),
    labels: JSON.stringify({ 'io.resin.local.image': '1', 'io.resin.local.service': service }),
    t: `local_${service}`,
    nocache: 'false',
    forcerm: 'true',
    pull: 'false',
    buildargs: '{}',
  });
  const res = await engineRequest(
    'POST',
    `/build?${query.toString()}`,
    {
      'Content-Type': 'application/tar',
      'Transfer-Encoding': 'chunked',
      'X-Registry-Config': 'e30=',
    },
    context,
  );
  if (res.status !== 200) throw new Error(`build ${service}: ${res.status} ${res.text}`);
  let output = '';
  let imageId: string | undefined;
  for (const line of res.text.split('\n').filter((l) => l.trim() !== '')) {
    const event = JSON.parse(line) as { stream?: string; error?: string };
    if (event.error !== undefined)
      throw new Error(`Some services failed to build:\n\t${service}: ${event.error}`);
    if (event.stream === undefined) continue;
    output += event.stream;
    const arrow = /^ ---> ([0-9a-f]{12,})\s*$/m.exec(event.stream);
    if (arrow) imageId = arrow[1];
  }
  if (imageId === undefined)
    throw new Error(`build ${service}: no image id in the output:\n${output}`);
  return { imageId, output };
}

// ───────────────────────────── the target state the CLI posts ─────────────────────────────

export interface ComposeService {
  name: string;
  /** Compose keys passed through as written (`environment`/`labels` as maps, `depends_on`, `volumes`, …). */
  compose: Record<string, unknown>;
}

/**
 * docs/protocol.md#local-target-state: deep-clone `state`, replace `local.apps` with the one app the CLI always sends (`"1"`,
 * `localapp`, commit `10ca12e1ea5e`, `releaseId: "1"` as a string), services keyed 1…N in compose order.
 */
export function cliTargetState(
  current: { local: Record<string, unknown> },
  services: ComposeService[],
  topLevel: { volumes?: Record<string, unknown>; networks?: Record<string, unknown> } = {},
): { local: Record<string, unknown> } {
  const state = structuredClone(current);
  delete state.local['apps'];
  const keyed = Object.fromEntries(
    services.map((s, i) => {
      const { build: _build, image, environment, labels, ...rest } = s.compose;
      return [
        String(i + 1),
        {
          environment: environment ?? {},
          labels: labels ?? {},
          ...rest,
          imageId: i + 1,
          serviceName: s.name,
          serviceId: i + 1,
          image: typeof image === 'string' ? image : `local_${s.name}`,
          running: true,
        },
      ];
    }),
  );
  state.local['apps'] = {
    '1': {
      name: 'localapp',
      commit: '10ca12e1ea5e',
      releaseId: '1',
      services: keyed,
      volumes: topLevel.volumes ?? {},
      networks: topLevel.networks ?? {},
    },
  };
  return state;
}
