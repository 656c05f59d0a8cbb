import { describe, expect, it } from 'vitest';
import { createMainWindow, type MainWindowSettings } from '../../src-main/electron/main-window';

/** Records what the window would be created with. */
class FakeWindow {
  constructor(readonly settings: MainWindowSettings) {}
}

const prefs = (packaged: boolean) =>
  createMainWindow(FakeWindow, { preload: '/p.cjs', packaged }).settings.webPreferences;

describe('createMainWindow', () => {
  it('keeps every checklist setting on, in development and packaged', () => {
    for (const packaged of [false, true]) {
      expect(prefs(packaged)).toMatchObject({
        preload: '/p.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        disableBlinkFeatures: 'Auxclick',
      });
    }
  });

  it('has DevTools in development only', () => {
    expect(prefs(false).devTools).toBe(true);
    expect(prefs(true).devTools).toBe(false);
  });

  it('enables no blink feature and passes no extra renderer arguments', () => {
    const packaged: Record<string, unknown> = prefs(true);
    expect(packaged.enableBlinkFeatures).toBeUndefined();
    expect(packaged.additionalArguments).toBeUndefined();
  });

  it('starts hidden, shown once the page is ready to paint', () => {
    expect(createMainWindow(FakeWindow, { preload: '/p.cjs', packaged: true }).settings.show).toBe(
      false,
    );
  });
});
