import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL } from '../../src-main/electron/app-protocol';
import { isTrustedSender, rendererPageUrl } from '../../src-main/electron/renderer-page';

describe('rendererPageUrl', () => {
  it('is the app:// entry in a packaged app, even when ELECTRON_RENDERER_URL is set', () => {
    expect(rendererPageUrl({ devServerUrl: undefined, packaged: true })).toBe(APP_ENTRY_URL);
    expect(rendererPageUrl({ devServerUrl: 'http://localhost:5173', packaged: true })).toBe(
      APP_ENTRY_URL,
    );
    expect(rendererPageUrl({ devServerUrl: undefined, packaged: false })).toBe(APP_ENTRY_URL);
  });

  it("is electron-vite's dev server during `npm run dev`, as the page reports it", () => {
    expect(rendererPageUrl({ devServerUrl: 'http://localhost:5173', packaged: false })).toBe(
      'http://localhost:5173/',
    );
    expect(rendererPageUrl({ devServerUrl: 'http://127.0.0.1:5174/', packaged: false })).toBe(
      'http://127.0.0.1:5174/',
    );
  });

  it('refuses a dev server that is not on this machine', () => {
    expect(() =>
      rendererPageUrl({ devServerUrl: 'https://example.com/', packaged: false }),
    ).toThrow(/loopback/);
    expect(() => rendererPageUrl({ devServerUrl: 'file:///tmp/x.html', packaged: false })).toThrow(
      /loopback/,
    );
  });
});

describe('isTrustedSender', () => {
  const contents = { id: 1 };
  const window = { webContents: contents };
  const mainFrame = (url: string) => ({ url, parent: null });

  it("accepts our window's main frame showing our page", () => {
    const event = { sender: contents, senderFrame: mainFrame(APP_ENTRY_URL) };
    expect(isTrustedSender(event, window, APP_ENTRY_URL)).toBe(true);
    const dev = { sender: contents, senderFrame: mainFrame('http://localhost:5173/') };
    expect(isTrustedSender(dev, window, 'http://localhost:5173/')).toBe(true);
  });

  it('refuses a subframe, even one showing our page', () => {
    const sub = { url: APP_ENTRY_URL, parent: mainFrame(APP_ENTRY_URL) };
    expect(isTrustedSender({ sender: contents, senderFrame: sub }, window, APP_ENTRY_URL)).toBe(
      false,
    );
  });

  it('refuses another window, a gone frame, and no window at all', () => {
    const other = { sender: { id: 2 }, senderFrame: mainFrame(APP_ENTRY_URL) };
    expect(isTrustedSender(other, window, APP_ENTRY_URL)).toBe(false);
    expect(isTrustedSender({ sender: contents, senderFrame: null }, window, APP_ENTRY_URL)).toBe(
      false,
    );
    const event = { sender: contents, senderFrame: mainFrame(APP_ENTRY_URL) };
    expect(isTrustedSender(event, null, APP_ENTRY_URL)).toBe(false);
  });

  it('compares the exact URL: other pages, file:// and look-alike prefixes are refused', () => {
    for (const url of [
      'file:///tmp/index.html',
      'app://mnist-studio/index.html.evil',
      'app://mnist-studio/other.html',
      'app://mnist-studio.evil/index.html',
      'http://localhost:5173/',
      'https://example.com/',
      '',
    ]) {
      const event = { sender: contents, senderFrame: mainFrame(url) };
      expect(isTrustedSender(event, window, APP_ENTRY_URL), url).toBe(false);
    }
  });
});
