/**
 * The main window, secured per Electron's security checklist. The constructor is passed in, so
 * tests check the settings with a fake and without Electron; its parameter keeps Electron's
 * name because Electronegativity (npm run lint:security) recognises windows by `new
 * BrowserWindow(` and reads the webPreferences literal below.
 */
export interface MainWindowSettings {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  title: string;
  show: boolean;
  backgroundColor: string;
  webPreferences: {
    preload: string;
    contextIsolation: boolean;
    sandbox: boolean;
    nodeIntegration: boolean;
    nodeIntegrationInWorker: boolean;
    nodeIntegrationInSubFrames: boolean;
    webSecurity: boolean;
    allowRunningInsecureContent: boolean;
    experimentalFeatures: boolean;
    webviewTag: boolean;
    navigateOnDragDrop: boolean;
    devTools: boolean;
    spellcheck: boolean;
    disableBlinkFeatures: string;
  };
}

export function createMainWindow<W>(
  BrowserWindow: new (settings: MainWindowSettings) => W,
  options: { preload: string; packaged: boolean },
): W {
  return new BrowserWindow({
    width: 1280,
    height: 880,
    minWidth: 900,
    minHeight: 640,
    title: 'MNIST Studio',
    show: false,
    backgroundColor: '#0f1115',
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      // A file dropped on the window would otherwise navigate to it.
      navigateOnDragDrop: false,
      // DevTools are for development: in a packaged app they would be a console with the IPC
      // bridge at hand, for anyone at the keyboard.
      devTools: !options.packaged,
      // The only text fields take numbers; on Linux the spellchecker would fetch dictionaries
      // from Google's CDN, a network request this offline app has no other reason to make.
      spellcheck: false,
      // Middle-click would open links in new windows, which this app never wants.
      disableBlinkFeatures: 'Auxclick',
    },
  });
}
