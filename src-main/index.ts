import { app, BrowserWindow, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { IPC_CHANNELS } from './contract/channels';
import { utilityWorker } from './electron/utility-worker';
import { handleClientRequest } from './host/client-requests';
import { WorkerHost } from './host/worker-host';
import gradientThreadEntry from './engine/parallel/gradient-thread?modulePath';
import workerEntry from './worker/main?modulePath';

/**
 * Electron main: one window, secured per Electron's checklist, and the IPC bridge to the engine
 * worker. Everything worth testing lives in host/ and engine/, which run without Electron.
 */

// Packaged apps keep the user's runs with the user's data; dev runs use the repo's checkpoints/.
const checkpointsDir = app.isPackaged
  ? path.join(app.getPath('userData'), 'checkpoints')
  : path.resolve('checkpoints');
const context = { mode: 'electron' as const, checkpointsDir };
let mainWindow: BrowserWindow | null = null;

const host = new WorkerHost({
  spawn: utilityWorker(workerEntry),
  checkpointsDir,
  dataDir: null,
  backend: 'auto',
  threadEntry: gradientThreadEntry,
  owner: 'the MNIST Studio desktop app',
  onEvent: (event) => {
    if (mainWindow && !mainWindow.isDestroyed())
      mainWindow.webContents.send(IPC_CHANNELS.event, event);
  },
});

const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = path.join(import.meta.dirname, '../renderer/index.html');

function isOurFrame(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  const fromOurWindow = mainWindow !== null && event.sender === mainWindow.webContents;
  const fromOurPage = rendererUrl ? url.startsWith(rendererUrl) : url.startsWith('file://');
  return fromOurWindow && fromOurPage;
}

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 880,
    minWidth: 900,
    minHeight: 640,
    title: 'MNIST Studio',
    show: false,
    backgroundColor: '#0f1115',
    webPreferences: {
      preload: path.join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      // Middle-click would open links in new windows, which this app never wants.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  // No navigation away from the app and no new windows: links are not part of this UI.
  mainWindow.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  mainWindow.webContents.on('will-navigate', (event) => event.preventDefault());
  mainWindow.on('closed', () => (mainWindow = null));
  if (rendererUrl) void mainWindow.loadURL(rendererUrl);
  else void mainWindow.loadFile(rendererFile);
}

ipcMain.handle(IPC_CHANNELS.request, (event, payload: unknown) => {
  if (!isOurFrame(event)) throw new Error('request from an unknown sender');
  return handleClientRequest(host, payload, context);
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.whenReady().then(() => {
  // The app needs no camera, microphone, notifications or any other permission: refuse all.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
  session.defaultSession.setPermissionCheckHandler(() => false);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => host.dispose());
