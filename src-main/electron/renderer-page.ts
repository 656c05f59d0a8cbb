import { APP_ENTRY_URL } from './app-protocol';

/**
 * The one URL the window loads, and so the only page allowed to call the IPC bridge or be
 * navigated to: the app:// entry, or electron-vite's dev server during `npm run dev`.
 */
export function rendererPageUrl(options: {
  devServerUrl: string | undefined;
  packaged: boolean;
}): string {
  // A packaged app ignores ELECTRON_RENDERER_URL: an environment variable must not be able to
  // point the window, and the IPC bridge with it, at another page.
  if (options.packaged || !options.devServerUrl) return APP_ENTRY_URL;
  const url = new URL(options.devServerUrl);
  if (!['http:', 'https:'].includes(url.protocol) || !LOOPBACK.has(url.hostname)) {
    throw new Error(`ELECTRON_RENDERER_URL must be a loopback dev server, not ${url.href}`);
  }
  return url.href;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What an IPC event tells about its sender (a subset of Electron's IpcMainInvokeEvent). */
export interface IpcSenderInfo {
  readonly sender: unknown;
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
}

/**
 * An IPC request is served only from our window's main frame while it shows our page: not from
 * another window, a subframe, or a page the window was somehow navigated to. The URL is
 * compared exactly — a prefix test would let app://mnist-studio/index.html.evil through.
 */
export function isTrustedSender(
  event: IpcSenderInfo,
  window: { readonly webContents: unknown } | null,
  pageUrl: string,
): boolean {
  const frame = event.senderFrame;
  return (
    window !== null &&
    event.sender === window.webContents &&
    frame !== null &&
    frame.parent === null &&
    frame.url === pageUrl
  );
}
