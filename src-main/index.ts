import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import path from 'node:path';
import { IPC_CHANNELS } from './contract/channels';
import {
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
} from './electron/app-protocol';
import { createMainWindow } from './electron/main-window';
import { guardContents } from './electron/navigation';
import { isTrustedSender, rendererPageUrl } from './electron/renderer-page';
import { applySessionPolicy } from './electron/session-policy';
import { claimSingleInstance } from './electron/single-instance';
import { utilityWorker } from './electron/utility-worker';
import { handleClientRequest } from './host/client-requests';
import { saveDialogDestination } from './host/export-destination';
import { STOP_TIMEOUT_MS, onStopSignals, shutdownAll, signalExitCode } from './host/shutdown';
import { SweepHost } from './host/sweep-host';
import type { ClientEvent } from './contract/api';
import { WorkerHost } from './host/worker-host';
import gradientThreadEntry from './engine/parallel/gradient-thread?modulePath';
import workerEntry from './worker/main?modulePath';

/**
 * Electron main: one window, secured per Electron's checklist, and the IPC bridge to the engine
 * worker. The rules (what app:// serves, who may call IPC, where frames may navigate, window and
 * session settings, the single instance) live in electron/*, the engine in host/ and engine/:
 * all of them run without Electron.
 */

// Both must happen before `ready`: custom-scheme privileges, and the sandbox for every renderer
// the app will ever create (not only windows that remember to ask for it).
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();

const pageUrl = rendererPageUrl({
  devServerUrl: process.env.ELECTRON_RENDERER_URL,
  packaged: app.isPackaged,
});
const rendererDir = path.join(import.meta.dirname, '../renderer');
let mainWindow: BrowserWindow | null = null;

function createWindow(): void {
  mainWindow = createMainWindow(BrowserWindow, {
    preload: path.join(import.meta.dirname, '../preload/index.cjs'),
    packaged: app.isPackaged,
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => (mainWindow = null));
  void mainWindow.loadURL(pageUrl);
}

function start(): void {
  // Packaged apps keep the user's runs with the user's data; dev runs use the repo's checkpoints/.
  const checkpointsDir = app.isPackaged
    ? path.join(app.getPath('userData'), 'checkpoints')
    : path.resolve('checkpoints');
  const context = { mode: 'electron' as const, checkpointsDir };
  const engine = {
    spawn: utilityWorker(workerEntry),
    checkpointsDir,
    dataDir: null,
    backend: 'auto' as const,
    threadEntry: gradientThreadEntry,
    owner: 'the MNIST Studio desktop app',
    onEvent: (event: ClientEvent) => {
      if (mainWindow && !mainWindow.isDestroyed())
        mainWindow.webContents.send(IPC_CHANNELS.event, event);
    },
  };
  const host = new WorkerHost(engine);
  // A sweep's trials are utility processes too, each its own worker beside the app's.
  const sweeps = new SweepHost({ ...engine, trainingNow: () => host.busyWith });
  // Exports go where the user says in the OS save dialog, attached to the window (modal to it).
  const exports = saveDialogDestination(
    (options) =>
      mainWindow ? dialog.showSaveDialog(mainWindow, options) : dialog.showSaveDialog(options),
    () => app.getPath('downloads'),
  );

  ipcMain.handle(IPC_CHANNELS.request, (event, payload: unknown) => {
    if (!isTrustedSender(event, mainWindow, pageUrl)) {
      throw new Error('request from an unknown sender');
    }
    return handleClientRequest(host, payload, context, sweeps, exports);
  });

  // Every webContents, including any created later, gets the same navigation limits.
  app.on('web-contents-created', (_event, contents) => guardContents(contents, pageUrl));

  app
    .whenReady()
    .then(() => {
      protocol.handle(APP_SCHEME, createAppProtocolHandler(rendererDir));
      applySessionPolicy(session.defaultSession);
      createWindow();
      app.on('activate', () => {
        if (BrowserWindow.getAllWindows().length === 0) createWindow();
      });
    })
    .catch((error: unknown) => {
      // Without its protocol and window the app has nothing to show: say why, and quit.
      console.error('MNIST Studio could not start:', error);
      app.exit(1);
    });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Quitting mid-run stops the run (or the sweep's trials) after the current batch (run.json
  // `stopped`, every finished epoch kept, the sweep resumable) instead of killing it; a run that
  // does not stop in time is killed and marked.
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void shutdownAll(host, sweeps, {
      timeoutMs: STOP_TIMEOUT_MS,
      reason: 'the app was quitting',
    }).finally(() => app.quit());
  });
  // Ctrl-C on `npm run dev`, or SIGTERM from the session: the same clean path; a second one ends now.
  onStopSignals({
    stop: () => app.quit(),
    kill: (signal) => {
      host.dispose();
      void sweeps.kill();
      app.exit(signalExitCode(signal));
    },
  });
}

if (
  claimSingleInstance(
    app,
    () => mainWindow,
    () => {
      if (app.isReady()) createWindow();
    },
  )
) {
  start();
}
