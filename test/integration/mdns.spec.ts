/**
 * mDNS between two network namespaces joined by a veth pair: bosun's advertiser in one, a browser doing
 * exactly what `balena device detect` does in the other. Nothing mDNS runs in the root namespace, so no
 * multicast ever reaches the machine's real interfaces. Needs root and iproute2 (fails loudly without).
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNetnsPair, JsonLines, spawnNodeInNetns, type NetnsPair } from '../support/netns.js';

const ADVERTISER = fileURLToPath(new URL('../support/netns-mdns-advertiser.ts', import.meta.url));
const BROWSER = fileURLToPath(new URL('../support/netns-mdns-browser.ts', import.meta.url));
const BROWSE_MS = 3000;

interface Found {
  event: 'found';
  host: string;
  address: string;
  port: number;
  subtypes: string[];
}

async function browse(
  pair: NetnsPair,
  resolveName?: string,
): Promise<Array<Record<string, unknown>>> {
  const child = spawnNodeInNetns(pair.b.namespace, BROWSER, [
    pair.b.address,
    String(BROWSE_MS),
    ...(resolveName ? [resolveName] : []),
  ]);
  const lines = new JsonLines(child);
  const seen: Array<Record<string, unknown>> = [];
  await lines.next((v) => {
    seen.push(v);
    return v['event'] === 'done';
  }, BROWSE_MS + 20_000);
  return seen.filter((v) => v['event'] !== 'done');
}

describe('mDNS advertising (network namespaces)', function () {
  this.timeout(60_000);
  let pair: NetnsPair;
  let advertiser: ChildProcessWithoutNullStreams | undefined;
  let advertiserLines: JsonLines;
  const name = `b${Math.random().toString(16).slice(2, 8)}`;

  before(async () => {
    pair = await createNetnsPair('bosun-mdns');
  });

  after(async () => {
    advertiser?.kill('SIGKILL');
    await pair?.remove();
  });

  it('is found by a balena-cli style browser with its host and the source address of its namespace', async () => {
    advertiser = spawnNodeInNetns(pair.a.namespace, ADVERTISER, [name, pair.a.device]);
    advertiserLines = new JsonLines(advertiser);
    const started = await advertiserLines.next((v) => v['event'] === 'started', 20_000);
    assert.deepEqual(started['advertisingOn'], [
      { interfaceName: pair.a.device, address: pair.a.address },
    ]);

    const found = (await browse(pair)) as unknown as Found[];
    assert.equal(found.length, 1, `expected exactly one device, got ${JSON.stringify(found)}`);
    assert.equal(found[0]!.host, `${name}.local`);
    assert.equal(found[0]!.address, pair.a.address);
    assert.equal(found[0]!.port, 22222);
    assert.deepEqual(found[0]!.subtypes, ['resin-device']);
  });

  it('resolves <name>.local through the mDNS fallback when the system resolver cannot', async () => {
    const [resolved] = await browse(pair, `${name}.local`);
    assert.deepEqual(resolved, { event: 'resolved', address: pair.a.address, family: 4 });
    const [missing] = await browse(pair, 'nobody-here.local');
    assert.equal(missing!['event'], 'resolved');
    assert.ok(
      typeof missing!['error'] === 'string',
      `expected a lookup error, got ${JSON.stringify(missing)}`,
    );
  });

  it('stops being found once it stops advertising (leaving local mode), and is found again after a restart', async () => {
    advertiser!.stdin.write('stop\n');
    const stopped = await advertiserLines.next((v) => v['event'] === 'stopped', 20_000);
    assert.deepEqual(stopped['advertisingOn'], []);
    assert.deepEqual(await browse(pair), []);

    advertiser!.stdin.write('start\n');
    await advertiserLines.next(
      (v) => v['event'] === 'started' && (v['advertisingOn'] as unknown[]).length === 1,
      20_000,
    );
    const again = (await browse(pair)) as unknown as Found[];
    assert.deepEqual(
      again.map((f) => [f.host, f.address]),
      [[`${name}.local`, pair.a.address]],
    );
  });

  it('does not advertise when the only configured interface is loopback', async () => {
    const loopbackOnly = spawnNodeInNetns(pair.a.namespace, ADVERTISER, [`${name}x`, 'lo']);
    const lines = new JsonLines(loopbackOnly);
    try {
      const started = await lines.next((v) => v['event'] === 'started', 20_000);
      assert.deepEqual(started['advertisingOn'], []);
      const found = (await browse(pair)) as unknown as Found[];
      assert.ok(
        !found.some((f) => f.host === `${name}x.local`),
        `loopback-only advertiser was found: ${JSON.stringify(found)}`,
      );
    } finally {
      loopbackOnly.kill('SIGKILL');
    }
  });
});
