/**
 * The dashboard in a real browser (Debian's Chromium, headless) against the agent process on the real
 * engine with two services: it shows both and their states, a line the worker prints streams in,
 * a restart from the page gives the service a new container, the blocker is spelled out while a user
 * holds the update lock, and actions are refused without the key in managed mode and from another
 * site (the key lives in the dashboard's sessionStorage, never in a cookie another origin could use).
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { cleanupByLabel, requireDocker, uniquePrefix } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { launchBrowser, type Browser } from './support/browser.js';
import { deviceKey, twoServiceBody, waitRunning } from './support/observe-agent.js';
import { AgentProcess, freePort } from '../support/agent-process.js';

/** The little of the DOM the page functions below use (tsconfig has no DOM lib: they run in Chromium). */
declare const document: {
  querySelector(selector: string): {
    textContent: string | null;
    getAttribute(name: string): string | null;
  } | null;
  documentElement: { scrollWidth: number; clientWidth: number };
};

/** Generous bound for what the page must eventually show (a failure bound, not a timing claim). */
const SHOWS_WITHIN_MS = 60_000;

describe('dashboard in a real browser', function () {
  this.timeout(180_000);
  const prefix = uniquePrefix('e2e-dash');
  const appId = 40_000 + Math.floor(Math.random() * 20_000);
  let agent: AgentProcess | undefined;
  let managed: AgentProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let key = '';

  const serviceCard = (name: string) => page.locator(`[data-service="${name}"]`);
  const waitForText = async (selector: string, text: string | RegExp): Promise<void> => {
    await page.waitForFunction(
      ([sel, source, flags]) => {
        const content = document.querySelector(sel)?.textContent ?? '';
        return flags === null ? content.includes(source) : new RegExp(source, flags).test(content);
      },
      typeof text === 'string'
        ? ([selector, text, null] as const)
        : ([selector, text.source, text.flags] as const),
      { timeout: SHOWS_WITHIN_MS },
    );
  };
  const login = async (p: Page, value: string): Promise<void> => {
    if (await p.locator('#login').isHidden()) await p.click('#key-button');
    await p.fill('#key', value);
    await p.click('#login button[type=submit]');
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    agent = await AgentProcess.create(prefix);
    await agent.start();
    await agent.postLocalTarget(twoServiceBody(prefix, appId, 'aaaa001'));
    await waitRunning(prefix, 'aaaa001', ['main', 'worker']);
    key = deviceKey(agent);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(`${agent.url}/dashboard`);
  });

  after(async () => {
    await browser?.close();
    await agent?.remove();
    await managed?.remove();
    await cleanupByLabel(prefix);
  });

  it('shows both services and their states, open in local mode', async () => {
    await waitForText('[data-service="main"] .svc-state', 'Running');
    await waitForText('[data-service="worker"] .svc-state', 'Running');
    assert.equal(await page.locator('#mode').textContent(), 'local mode');
    assert.equal(await page.locator('#device-name').textContent(), 'e2e-device');
    assert.equal(await page.locator('#summary').textContent(), 'Up to date.');
  });

  it('streams a line the worker prints', async () => {
    await page.selectOption('#log-service', 'worker');
    await waitForText('#log-lines', /\[worker\] tick \d+/);
  });

  it('restarts a service from the page (after confirming) and shows its new container', async () => {
    const before = (await waitRunning(prefix, 'aaaa001', ['main', 'worker'])).find(
      (c) => c.service === 'main',
    )!;
    assert.equal(await serviceCard('main').getAttribute('data-container'), before.id);
    await login(page, key);
    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    });
    await serviceCard('main').getByRole('button', { name: 'Restart' }).click();
    await page.waitForFunction(
      (old) => {
        const id = document.querySelector('[data-service="main"]')?.getAttribute('data-container');
        return id !== null && id !== undefined && id !== '' && id !== old;
      },
      before.id,
      { timeout: SHOWS_WITHIN_MS },
    );
    assert.deepEqual(questions, ['Restart service main of demo?']);
    const shown = await serviceCard('main').getAttribute('data-container');
    const after = (await waitRunning(prefix, 'aaaa001', ['main', 'worker'])).find(
      (c) => c.service === 'main',
    )!;
    assert.notEqual(after.id, before.id);
    assert.equal(shown, after.id, 'the page shows the container the engine runs');
    await waitForText('[data-service="main"] .svc-id', `container ${after.id.slice(0, 12)}`);
  });

  it('spells out the blocker while a user holds the update lock', async () => {
    const lockDir = join(agent!.lockRoot, 'services', String(appId), 'main');
    await mkdir(lockDir, { recursive: true });
    const lockFile = join(lockDir, 'updates.lock');
    await writeFile(lockFile, 'held by the test\n');
    try {
      // A config change of main needs its container recreated: held back by the lock.
      await agent!.postLocalTarget(twoServiceBody(prefix, appId, 'aaaa001', { MODE: 'two' }));
      await waitForText(
        '#summary',
        /waiting for the update lock held by service main since \d\d:\d\d/,
      );
      await waitForText(
        '[data-app] .app-waiting',
        'waiting for the update lock held by service main',
      );
      await page.screenshot({
        path: join(process.env['BOSUN_TEST_SCREENSHOTS'] ?? tmpdir(), 'bosun-dashboard-locked.png'),
      });
    } finally {
      await rm(lockFile, { force: true });
    }
    await waitForText('#summary', 'Up to date.');
  });

  it('refuses an action from another site, although this browser holds the key', async () => {
    const main = (await waitRunning(prefix, 'aaaa001', ['main', 'worker'])).find(
      (c) => c.service === 'main',
    )!;
    // Another origin (another port) serves a page that tries both a form post and a fetch.
    const evilPort = await freePort();
    const target = `${agent!.url}/v2/applications/${appId}/restart-service`;
    const evil: Server = createServer((_req, res) => {
      // No keep-alive: the browser's later requests (a favicon) must not keep the server open.
      res.writeHead(200, { 'Content-Type': 'text/html', Connection: 'close' });
      res.end(`<!doctype html><body>
        <form id="f" method="POST" action="${target}" enctype="text/plain">
          <input name='{"serviceName":"main","x":"' value='"}'>
        </form>
        <script>
          fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
            headers: { 'Content-Type': 'text/plain' }, body: '{"serviceName":"main"}' })
            .finally(() => document.getElementById('f').submit());
        </script></body>`);
    });
    await new Promise<void>((resolve) => evil.listen(evilPort, '127.0.0.1', resolve));
    try {
      const attacker = await browser!.context.newPage();
      const answers: number[] = [];
      attacker.on('response', (r) => {
        if (r.url() === target) answers.push(r.status());
      });
      const formAnswer = attacker.waitForResponse(
        (r) => r.url() === target && r.request().resourceType() === 'document',
      );
      await attacker.goto(`http://127.0.0.1:${evilPort}/`);
      await formAnswer;
      // Not awaited: after this page was sent a cross-origin JSON document, closing it sometimes
      // never resolves in this Playwright/Chromium pair (the browser context closes it at the end).
      void attacker.close().catch(() => undefined);
      assert.ok(answers.length >= 1, 'the attack was sent');
      for (const status of answers) assert.ok(status >= 400, `answered ${status}`);
    } finally {
      evil.close();
      evil.closeAllConnections();
    }
    const now = (await waitRunning(prefix, 'aaaa001', ['main', 'worker'])).find(
      (c) => c.service === 'main',
    )!;
    assert.equal(now.id, main.id, 'main was not restarted');
  });

  it('asks for the key in managed mode and refuses an action without it', async () => {
    managed = await AgentProcess.create(`${prefix}-managed`);
    await managed.start({ BOSUN_LOCAL_MODE: 'false' });
    const other = await browser!.context.newPage();
    try {
      await other.goto(`${managed.url}/dashboard`);
      await other.locator('#login').waitFor({ state: 'visible', timeout: SHOWS_WITHIN_MS });
      const refused = await other.evaluate(async () => {
        const res = await fetch('/v2/applications/1/restart', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        });
        return res.status;
      });
      assert.equal(refused, 401);
      await login(other, 'not-the-key');
      await other.locator('#message.error').waitFor({ timeout: SHOWS_WITHIN_MS });
      assert.match((await other.locator('#message').textContent()) ?? '', /Refused/);
      await login(other, deviceKey(managed));
      await other.waitForFunction(() => document.querySelector('#mode')?.textContent === 'cloud', {
        timeout: SHOWS_WITHIN_MS,
      });
      assert.ok(await other.locator('#login').isHidden());
    } finally {
      await other.close();
    }
  });

  it('reads well on a desktop and on a phone (screenshots for a person to look at)', async () => {
    const dir = process.env['BOSUN_TEST_SCREENSHOTS'] ?? tmpdir();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(dir, 'bosun-dashboard-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await waitForText('[data-service="worker"] .svc-state', 'Running');
    // On a phone nothing may need sideways scrolling.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone screen`);
    await page.screenshot({ path: join(dir, 'bosun-dashboard-phone.png'), fullPage: true });
  });
});
