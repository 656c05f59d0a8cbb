/**
 * One running app per user: two instances would each start a training worker over the same
 * checkpoints folder. A second launch quits at once and brings the first one's window forward.
 */

/** The part of Electron's `app` this needs; tests pass a fake. */
export interface InstanceApp {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  on(event: 'second-instance', listener: () => void): unknown;
}

export interface FocusableWindow {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
}

/**
 * True when this process is the only instance and should start; false after asking it to quit.
 * `reopen` is called on a later launch when no window is open (macOS keeps the app running).
 */
export function claimSingleInstance(
  app: InstanceApp,
  window: () => FocusableWindow | null,
  reopen: () => void,
): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => {
    const current = window();
    if (!current || current.isDestroyed()) return reopen();
    if (current.isMinimized()) current.restore();
    current.show();
    current.focus();
  });
  return true;
}
