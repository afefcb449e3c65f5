/**
 * The dashboard's weight, its time to first render, and the agent's memory with the page open.
 * Method: build first (`npm run build`). Starts the agent process (local mode, two busybox services
 * on the real engine, as the e2e tests do) and Debian's Chromium (headless, fresh profile).
 * - Weight: bytes of the page, script and style as served (and gzip -9 of each, for reference).
 * - First render: N fresh page loads; for each, the first contentful paint and the time until the
 *   services are on screen (first `[data-service]` element), from navigation start. The floor is the
 *   first paint of the smallest page the same server serves (`GET /ping`, the text `OK`), measured
 *   in the same run, so the ratio says what the dashboard costs above the browser and the server.
 * - Idle RSS: the agent's VmRSS (from /proc) sampled every 10 s with the dashboard open (polling
 *   every 2 s, log stream open, the worker printing a line a second) for --soak-seconds (600 by
 *   default), after a 30 s warm-up; growth = last minute's median minus the first minute's median.
 * Writes bench/results/dashboard.json.
 * Usage: node --import tsx bench/dashboard.ts [--runs 10] [--soak-seconds 600]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { cleanupByLabel, uniquePrefix } from '../test/support/docker.js';
import { launchBrowser } from '../test/e2e/support/browser.js';
import { twoServiceBody, waitRunning } from '../test/e2e/support/observe-agent.js';
import { AgentProcess } from '../test/support/agent-process.js';

/** The little of the DOM the page functions use (no DOM lib in tsconfig). */
declare const document: { querySelector(selector: string): unknown };
declare const performance: {
  getEntriesByName(name: string): Array<{ startTime: number }>;
  now(): number;
};

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const runs = arg('runs', 10);
const soakSeconds = arg('soak-seconds', 600);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
};
const rssMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
};

async function main(): Promise<void> {
  const prefix = uniquePrefix('bench-dash');
  const appId = 30_000 + Math.floor(Math.random() * 9_000);
  const agent = await AgentProcess.create(prefix);
  const browser = await launchBrowser({ width: 1280, height: 800 });
  try {
    await agent.start();
    await agent.postLocalTarget(twoServiceBody(prefix, appId, 'bbbb001'));
    await waitRunning(prefix, 'bbbb001', ['main', 'worker']);
    const pid = agent.child?.pid;
    if (pid === undefined) throw new Error('no agent pid');

    const weight: Record<string, { bytes: number; gzip: number }> = {};
    for (const path of ['/dashboard', '/dashboard/dashboard.js', '/dashboard/dashboard.css']) {
      const body = Buffer.from(await (await fetch(`${agent.url}${path}`)).arrayBuffer());
      weight[path] = { bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
    }
    const totalBytes = Object.values(weight).reduce((n, w) => n + w.bytes, 0);

    const fcp = async (path: string, until?: string): Promise<{ paint: number; ready: number }> => {
      const page = await browser.context.newPage();
      try {
        await page.goto(`${agent.url}${path}`);
        if (until !== undefined)
          await page.waitForFunction((sel) => document.querySelector(sel) !== null, until);
        await page.waitForFunction(
          () => performance.getEntriesByName('first-contentful-paint').length > 0,
        );
        return await page.evaluate(() => ({
          paint: performance.getEntriesByName('first-contentful-paint')[0]!.startTime,
          ready: performance.now(),
        }));
      } finally {
        await page.close();
      }
    };
    // Warm-up (browser caches nothing across pages that matters here: no-cache on every file).
    await fcp('/ping');
    await fcp('/dashboard', '[data-service]');
    const floor: number[] = [];
    const paint: number[] = [];
    const services: number[] = [];
    for (let i = 0; i < runs; i++) {
      floor.push((await fcp('/ping')).paint);
      const r = await fcp('/dashboard', '[data-service]');
      paint.push(r.paint);
      services.push(r.ready);
    }

    // Soak: one dashboard tab stays open.
    const page = await browser.context.newPage();
    await page.goto(`${agent.url}/dashboard`);
    await page.selectOption('#log-service', 'worker');
    await sleep(30_000);
    const samples: Array<{ s: number; rssMiB: number }> = [];
    const started = Date.now();
    while (Date.now() - started < soakSeconds * 1000) {
      samples.push({ s: Math.round((Date.now() - started) / 1000), rssMiB: rssMiB(pid) });
      await sleep(10_000);
    }
    samples.push({ s: Math.round((Date.now() - started) / 1000), rssMiB: rssMiB(pid) });
    const firstMinute = median(samples.filter((x) => x.s <= 60).map((x) => x.rssMiB));
    const lastMinute = median(
      samples.filter((x) => x.s >= samples.at(-1)!.s - 60).map((x) => x.rssMiB),
    );
    const logLines = await page.evaluate(
      () =>
        (document.querySelector('#log-lines') as { childNodes: { length: number } }).childNodes
          .length,
    );
    await page.close();

    const result = {
      weight,
      totalBytes,
      firstPaintMs: {
        dashboard: median(paint),
        floorPing: median(floor),
        ratio: median(paint) / median(floor),
      },
      servicesOnScreenMs: median(services),
      soak: {
        seconds: soakSeconds,
        firstMinuteMiB: firstMinute,
        lastMinuteMiB: lastMinute,
        growthMiB: lastMinute - firstMinute,
        maxMiB: Math.max(...samples.map((x) => x.rssMiB)),
        logLinesOnPage: logLines,
        samples,
      },
      runs,
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/dashboard.json', JSON.stringify(result, null, 2));
    console.log(
      JSON.stringify({ ...result, soak: { ...result.soak, samples: samples.length } }, null, 2),
    );
  } finally {
    await browser.close();
    await agent.remove();
    await cleanupByLabel(prefix);
  }
}

await main();
