import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, REQUEST_TYPES } from '../src-main/contract/channels';

/**
 * Exposes exactly the contract's API as `window.studio`: one named function per request type
 * and an event subscription. The renderer never sees ipcRenderer; main validates every payload.
 */
const api: Record<string, unknown> = {};
for (const type of REQUEST_TYPES) {
  api[type] = (payload: object = {}) =>
    ipcRenderer.invoke(IPC_CHANNELS.request, { ...payload, type });
}
api.onEvent = (listener: (event: unknown) => void) => {
  const handler = (_event: Electron.IpcRendererEvent, data: unknown) => listener(data);
  ipcRenderer.on(IPC_CHANNELS.event, handler);
  return () => ipcRenderer.removeListener(IPC_CHANNELS.event, handler);
};

contextBridge.exposeInMainWorld('studio', api);
