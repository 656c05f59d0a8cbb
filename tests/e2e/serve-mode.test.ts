import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';
import { trainRun } from './fixtures';

/**
 * Serve mode in real Chromium, where its cookie and its WebSocket live: a page on another
 * loopback port cannot use them, two servers share one browser, and a page notices when its
 * server dies, comes back, or comes back with a new token.
 */

const checkpoints = tempDir();
const token = 't'.repeat(40);
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let runId = '';
const problems: string[] = [];
const cleanups: (() => unknown)[] = [];

const quickRun = () =>
  trainRun(checkpoints, [
    '--model',
    'mlp',
    '--epochs',
    '1',
    '--limit',
    '1000',
    '--backend',
    'wasm',
  ]);

beforeAll(async () => {
  const trained = quickRun();
  [serve, browser] = await Promise.all([
    startServe(checkpoints, ['--backend', 'wasm', '--token', token]),
    launchBrowser(),
  ]);
  context = await browser.newContext();
  runId = await trained;
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await browser?.close();
  serve?.stop();
});

const port = (s: ServeProcess) => Number(new URL(s.url).port);
const runDir = (id: string) => path.join(checkpoints, id);

async function openApp(url: string): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(url);
  return page;
}

/** A page of the Checkpoints panel lists `id`: it reached the server over the WebSocket. */
async function listsRun(page: Page, id: string): Promise<void> {
  await page.getByTestId('tab-checkpoints').click();
  await page
    .locator(`[data-testid="run-row"][data-run-id="${id}"]`)
    .waitFor({ state: 'visible', timeout: 20_000 });
}

/** A page of ours on another loopback port: "any local dev server". */
async function foreignServer(html: string): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('serve mode in the browser', () => {
  it('connects under a CSP that allows only its own WebSocket origin', async () => {
    const page = await openApp(serve.url);
    await listsRun(page, runId);
    const policy = await page
      .locator('meta[http-equiv="Content-Security-Policy"]')
      .getAttribute('content');
    expect(policy!.match(/wss?:[^\s;]*/g)).toEqual([`ws://127.0.0.1:${port(serve)}`]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('refuses a page on another loopback port that tries to use our cookie', async () => {
    const page = await openApp(serve.url);
    // The browser now holds our cookie, and would send it to our port from any 127.0.0.1 page.
    const cookies = await context.cookies(serve.url);
    expect(cookies.find((c) => c.name.startsWith('studio_token'))?.value).toBe(token);

    const attack = await foreignServer(`<!doctype html><script>
      window.outcome = new Promise((resolve) => {
        const ws = new WebSocket('ws://127.0.0.1:${port(serve)}/ws');
        ws.onopen = () =>
          ws.send(JSON.stringify({ id: 1, request: { type: 'deleteRun', runId: '${runId}', epoch: null } }));
        ws.onmessage = (m) => { if (String(m.data).includes('"id":1')) resolve('answered ' + m.data); };
        ws.onclose = (e) => resolve('closed ' + e.code);
      });
    </script>`);
    await page.goto(attack);
    expect(
      await page.evaluate(() => (globalThis as unknown as { outcome: Promise<string> }).outcome),
    ).toBe('closed 1006');
    expect(existsSync(runDir(runId))).toBe(true);
    await page.close();
  });

  it('keeps two servers working in one browser, each with its own cookie', async () => {
    const other = await startServe(tempDir(), ['--backend', 'wasm']);
    cleanups.push(() => other.stop());
    const first = await openApp(serve.url);
    const second = await openApp(other.url);
    // Assets and later visits go by cookie alone; the second server's must not replace ours.
    const asset = (page: Page) => page.evaluate(async () => (await fetch('./favicon.svg')).status);
    expect(await asset(first)).toBe(200);
    expect(await asset(second)).toBe(200);
    await first.goto(`http://127.0.0.1:${port(serve)}/`);
    await listsRun(first, runId);
    await first.close();
    await second.close();
  });

  it('says at once when the server is gone, and recovers when it is back', async () => {
    const page = await openApp(serve.url);
    await listsRun(page, runId);
    const status = page.getByTestId('connection-status');
    expect(await status.isVisible()).toBe(false);

    serve.child.kill('SIGKILL');
    await status.waitFor({ state: 'visible', timeout: 5_000 });
    expect(await status.textContent()).toMatch(/Lost the connection to the MNIST Studio server/);

    // A run finished while the page was cut off must show up once it reconnects.
    const missed = await quickRun();
    serve = await startServe(checkpoints, [
      '--backend',
      'wasm',
      '--port',
      String(port(serve)),
      '--token',
      token,
    ]);
    await status.waitFor({ state: 'hidden', timeout: 15_000 });
    expect(await status.getAttribute('data-state')).toBe('open');
    await listsRun(page, missed);
    await page.close();
  });

  it('explains an old token after a restart, in the page and at the old URL', async () => {
    const page = await openApp(serve.url);
    await listsRun(page, runId);
    const oldUrl = serve.url;
    serve.child.kill('SIGKILL');
    // Same port, new token: what a plain `npm run serve -- --port N` restart does.
    serve = await startServe(checkpoints, ['--backend', 'wasm', '--port', String(port(serve))]);
    expect(serve.url).not.toBe(oldUrl);

    const status = page.getByTestId('connection-status');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 15_000 }).toBe('refused');
    expect(await status.textContent()).toMatch(
      /restarted.*Open the new URL that npm run serve printed/,
    );

    const response = await page.goto(oldUrl);
    expect(response!.status()).toBe(401);
    expect(await page.locator('body').textContent()).toMatch(/no longer valid/);
    await page.close();
  });
});
