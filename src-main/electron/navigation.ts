/**
 * Limits applied to every webContents the app creates (app 'web-contents-created'), so a window
 * or frame added later cannot slip past them: no navigation away from our page in any frame, no
 * server redirects elsewhere, no new windows, no <webview>. The app has no links to follow;
 * anything else that tries to navigate is not ours.
 */

/** The part of Electron's navigation events this needs. */
export interface NavigationDetails {
  readonly url: string;
  readonly isMainFrame: boolean;
  preventDefault(): void;
}

/** The part of Electron's WebContents this needs; tests pass a fake. */
export interface GuardableContents {
  on(event: 'will-navigate', listener: (details: NavigationDetails) => void): unknown;
  on(event: 'will-frame-navigate', listener: (details: NavigationDetails) => void): unknown;
  on(event: 'will-redirect', listener: (details: NavigationDetails) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: () => { action: 'deny' }): void;
}

/**
 * Only the main frame may go (back) to our own page — a reload during `npm run dev` does — and
 * nothing else, in any frame.
 */
export function isAllowedNavigation(details: NavigationDetails, pageUrl: string): boolean {
  return details.isMainFrame && details.url === pageUrl;
}

export function guardContents(contents: GuardableContents, pageUrl: string): void {
  const limit = (details: NavigationDetails) => {
    if (!isAllowedNavigation(details, pageUrl)) details.preventDefault();
  };
  contents.on('will-navigate', limit);
  // will-navigate covers the main frame only; will-frame-navigate covers every frame.
  contents.on('will-frame-navigate', limit);
  contents.on('will-redirect', limit);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
