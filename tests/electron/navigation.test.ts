import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL } from '../../src-main/electron/app-protocol';
import {
  guardContents,
  type GuardableContents,
  type NavigationDetails,
} from '../../src-main/electron/navigation';

type Listener = (details: NavigationDetails) => void;

/** A webContents stand-in that records what was registered on it. */
function fakeContents() {
  const listeners = new Map<string, Listener>();
  let openHandler: (() => { action: 'deny' }) | null = null;
  const contents: GuardableContents = {
    on: (event: string, listener: Listener) => listeners.set(event, listener),
    setWindowOpenHandler: (handler: () => { action: 'deny' }) => (openHandler = handler),
  };
  // Whether the named event, fired with these details, is let through.
  const fire = (event: string, url: string, isMainFrame = true) => {
    let prevented = false;
    const listener = listeners.get(event);
    if (!listener) throw new Error(`no ${event} listener`);
    listener({ url, isMainFrame, preventDefault: () => (prevented = true) });
    return !prevented;
  };
  return { contents, fire, openHandler: () => openHandler };
}

describe('guardContents', () => {
  const events = ['will-navigate', 'will-frame-navigate', 'will-redirect'];

  it('blocks navigation and redirects away from our page in every frame', () => {
    const { contents, fire } = fakeContents();
    guardContents(contents, APP_ENTRY_URL);
    for (const event of events) {
      for (const url of [
        'https://example.com/',
        'file:///etc/passwd',
        'app://mnist-studio/other.html',
        'app://other/index.html',
        'http://localhost:5173/',
        'javascript:alert(1)',
      ]) {
        expect(fire(event, url), `${event} ${url}`).toBe(false);
      }
    }
  });

  it('lets only the main frame go back to our own page (a reload in dev)', () => {
    const { contents, fire } = fakeContents();
    guardContents(contents, APP_ENTRY_URL);
    for (const event of events) expect(fire(event, APP_ENTRY_URL), event).toBe(true);
    expect(fire('will-frame-navigate', APP_ENTRY_URL, false)).toBe(false);
  });

  it('refuses <webview> and new windows', () => {
    const { contents, fire, openHandler } = fakeContents();
    guardContents(contents, APP_ENTRY_URL);
    expect(fire('will-attach-webview', 'about:blank')).toBe(false);
    expect(openHandler()?.()).toEqual({ action: 'deny' });
  });
});
