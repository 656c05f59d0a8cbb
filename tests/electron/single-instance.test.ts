import { describe, expect, it } from 'vitest';
import { claimSingleInstance, type FocusableWindow } from '../../src-main/electron/single-instance';

function fakeApp(gotLock: boolean) {
  const calls: string[] = [];
  let secondInstance: (() => void) | null = null;
  const app = {
    requestSingleInstanceLock: () => {
      calls.push('lock');
      return gotLock;
    },
    quit: () => calls.push('quit'),
    on: (_event: 'second-instance', listener: () => void) => (secondInstance = listener),
  };
  return { app, calls, launchAgain: () => secondInstance?.() };
}

function fakeWindow(minimized: boolean, destroyed = false) {
  const calls: string[] = [];
  const window: FocusableWindow = {
    isDestroyed: () => destroyed,
    isMinimized: () => minimized,
    restore: () => calls.push('restore'),
    show: () => calls.push('show'),
    focus: () => calls.push('focus'),
  };
  return { window, calls };
}

describe('claimSingleInstance', () => {
  it('a second launch quits at once and starts nothing', () => {
    const { app, calls } = fakeApp(false);
    let reopened = 0;
    expect(
      claimSingleInstance(
        app,
        () => null,
        () => reopened++,
      ),
    ).toBe(false);
    expect(calls).toEqual(['lock', 'quit']);
    expect(reopened).toBe(0);
  });

  it('the first instance starts, and a later launch brings its window forward', () => {
    const { app, calls, launchAgain } = fakeApp(true);
    const { window, calls: windowCalls } = fakeWindow(true);
    expect(
      claimSingleInstance(
        app,
        () => window,
        () => {},
      ),
    ).toBe(true);
    expect(calls).toEqual(['lock']);
    launchAgain();
    expect(windowCalls).toEqual(['restore', 'show', 'focus']);
  });

  it('a later launch with no window open (macOS) opens one', () => {
    const { app, launchAgain } = fakeApp(true);
    let current: FocusableWindow | null = null;
    let reopened = 0;
    claimSingleInstance(
      app,
      () => current,
      () => reopened++,
    );
    launchAgain();
    expect(reopened).toBe(1);
    current = fakeWindow(false, true).window;
    launchAgain();
    expect(reopened).toBe(2);
  });

  it('a window that is not minimised is only shown and focused', () => {
    const { app, launchAgain } = fakeApp(true);
    const { window, calls } = fakeWindow(false);
    claimSingleInstance(
      app,
      () => window,
      () => {},
    );
    launchAgain();
    expect(calls).toEqual(['show', 'focus']);
  });
});
