import {
  ClientEventSchema,
  ClientResultSchemas,
  WireMessageSchema,
  type ClientEvent,
  type ClientRequestType,
  type WireMessage,
  type ClientRequest,
  type ClientResultOf,
  type PreloadApi,
  type StudioApi,
} from '$contract/api';

/**
 * Events cross a process boundary (main or the server → this page), so they are checked against
 * the contract here too; a malformed one is dropped with a console warning instead of breaking
 * the panels.
 */
/**
 * A WebSocket message from the server, or null (with a console warning) when it is not JSON or
 * not one of the shapes the contract allows: a page never acts on a message it cannot read.
 */
export function validWireMessage(text: string): WireMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    console.warn('MNIST Studio: ignored a message that is not JSON', text.slice(0, 200));
    return null;
  }
  const parsed = WireMessageSchema.safeParse(json);
  if (!parsed.success) {
    console.warn('MNIST Studio: ignored a malformed message', json);
    return null;
  }
  return parsed.data;
}

/** A request's result checked against the contract: a malformed one fails the request. */
export function validResult(type: ClientRequestType, result: unknown): unknown {
  const parsed = ClientResultSchemas[type].safeParse(result);
  if (!parsed.success)
    throw new Error(`the server answered a ${type} request with a malformed result`);
  return parsed.data;
}

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
  type: ClientRequestType;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The WebSocket's state as the page should show it. `lost`: the server went away and the next
 * attempt is `retryInMs` away; `refused`: the server is back but refuses our token, because it
 * was restarted and made a new one, so retrying cannot help.
 */
export type Connection =
  | { state: 'connecting' }
  | { state: 'open'; reconnected: boolean }
  | { state: 'lost'; retryInMs: number }
  | { state: 'refused' };

export type ConnectionListener = (connection: Connection) => void;
const connectionListeners = new Set<ConnectionListener>();
export function onConnectionChange(listener: ConnectionListener): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}
const announce = (connection: Connection) => connectionListeners.forEach((l) => l(connection));

/** Waits before the next attempt: 0.5 s, doubling, at most 8 s, so a restart is seen quickly. */
export function retryDelay(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 8000);
}

function connectWebSocket(): StudioApi {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${query}`;
  const listeners = new Set<(event: ClientEvent) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: WebSocket;
  let opened: Promise<void>;
  let attempt = 0;
  let lostOnce = false;

  const open = () => {
    announce({ state: 'connecting' });
    socket = new WebSocket(url);
    opened = new Promise((resolve, reject) => {
      socket.addEventListener('open', () => {
        attempt = 0;
        announce({ state: 'open', reconnected: lostOnce });
        resolve();
      });
      socket.addEventListener('error', () =>
        reject(new Error('cannot reach the MNIST Studio server')),
      );
    });
    opened.catch(() => undefined);
    socket.addEventListener('message', (message) => {
      const data = validWireMessage(String(message.data));
      if (data === null) return;
      if ('event' in data) {
        const event = validEvent(data.event);
        if (event) listeners.forEach((l) => l(event));
        return;
      }
      const p = data.id === null ? undefined : pending.get(data.id);
      if (!p || data.id === null) {
        if (!data.ok) console.warn(`MNIST Studio: the server refused a message: ${data.error}`);
        return;
      }
      pending.delete(data.id);
      if (!data.ok) return p.reject(new Error(data.error));
      try {
        p.resolve(validResult(p.type, data.result));
      } catch (error) {
        p.reject(error as Error);
      }
    });
    socket.addEventListener('close', () => {
      lostOnce = true;
      for (const p of pending.values())
        p.reject(new Error('lost the connection to the MNIST Studio server'));
      pending.clear();
      void retry();
    });
  };

  const retry = async () => {
    // A refused upgrade looks like any other failure to the page; plain HTTP tells them apart.
    if ((await tokenStatus(location.pathname + query)) === 401) {
      announce({ state: 'refused' });
      return;
    }
    const delay = retryDelay(attempt++);
    announce({ state: 'lost', retryInMs: delay });
    setTimeout(open, delay);
  };

  open();

  return {
    request: async <R extends ClientRequest>(request: R) => {
      await opened;
      if (socket.readyState !== WebSocket.OPEN)
        throw new Error('not connected to the MNIST Studio server');
      const id = nextId++;
      return new Promise<ClientResultOf<R['type']>>((resolve, reject) => {
        pending.set(id, { type: request.type, resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ id, request }));
      });
    },
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The HTTP status the server gives this page's address, or null when it cannot be reached. */
async function tokenStatus(address: string): Promise<number | null> {
  try {
    return (await fetch(address, { method: 'HEAD', cache: 'no-store' })).status;
  } catch {
    return null;
  }
}
