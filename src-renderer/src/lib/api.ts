import {
  ClientEventSchema,
  type ClientEvent,
  type ClientRequest,
  type ClientResultOf,
  type PreloadApi,
  type StudioApi,
} from '../../../src-main/contract/api';

/**
 * Events cross a process boundary (main or the server → this page), so they are checked against
 * the contract here too; a malformed one is dropped with a console warning instead of breaking
 * the panels.
 */
export function validEvent(raw: unknown): ClientEvent | null {
  const parsed = ClientEventSchema.safeParse(raw);
  if (!parsed.success || parsed.data.type === 'reply') {
    console.warn('MNIST Studio: ignored an invalid event', raw);
    return null;
  }
  return parsed.data;
}

/**
 * The renderer's one door to the engine. In Electron the preload provides `window.studio`; in a
 * browser (serve mode) the same requests and events travel over a WebSocket to the server that
 * served this page, authenticated by the token in the page's URL.
 */

declare global {
  interface Window {
    studio?: PreloadApi;
  }
}

export function connect(): StudioApi {
  const preload = window.studio;
  if (preload) {
    return {
      request: <R extends ClientRequest>(request: R) => {
        const { type, ...payload } = request;
        const call = preload[type] as (p: object) => Promise<ClientResultOf<R['type']>>;
        return call(payload);
      },
      onEvent: (listener) =>
        preload.onEvent((raw) => {
          const event = validEvent(raw);
          if (event) listener(event);
        }),
    };
  }
  return connectWebSocket();
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export type ConnectionListener = (connected: boolean) => void;
const connectionListeners = new Set<ConnectionListener>();
export function onConnectionChange(listener: ConnectionListener): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

function connectWebSocket(): StudioApi {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(token)}`;
  const listeners = new Set<(event: ClientEvent) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: WebSocket;
  let opened: Promise<void>;

  const open = () => {
    socket = new WebSocket(url);
    opened = new Promise((resolve, reject) => {
      socket.addEventListener('open', () => {
        connectionListeners.forEach((l) => l(true));
        resolve();
      });
      socket.addEventListener('error', () =>
        reject(new Error('cannot reach the MNIST Studio server')),
      );
    });
    opened.catch(() => undefined);
    socket.addEventListener('message', (message) => {
      const data = JSON.parse(String(message.data)) as
        { event: ClientEvent } | { id: number; ok: boolean; result?: unknown; error?: string };
      if ('event' in data) {
        const event = validEvent(data.event);
        if (event) listeners.forEach((l) => l(event));
        return;
      }
      const p = pending.get(data.id);
      if (!p) return;
      pending.delete(data.id);
      if (data.ok) p.resolve(data.result);
      else p.reject(new Error(data.error ?? 'request failed'));
    });
    socket.addEventListener('close', () => {
      connectionListeners.forEach((l) => l(false));
      for (const p of pending.values())
        p.reject(new Error('lost the connection to the MNIST Studio server'));
      pending.clear();
      // The server may be restarting; try again without flooding it.
      setTimeout(open, 2000);
    });
  };
  open();

  return {
    request: async <R extends ClientRequest>(request: R) => {
      await opened;
      const id = nextId++;
      return new Promise<ClientResultOf<R['type']>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ id, request }));
      });
    },
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
