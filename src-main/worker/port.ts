/**
 * The worker talks to its host through one of two channels: Electron's utility-process
 * `process.parentPort`, or Node's IPC channel from `child_process.fork` (tests, CLI, serve).
 * Everything above this file sees only `post`, `onMessage` and `onDisconnect`.
 */
export interface Port {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** The host is gone (it exited or was killed): nobody will send a command again. */
  onDisconnect(listener: () => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

export function connectToHost(): Port {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) {
    return {
      post: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
      // Chromium ends a utility process itself when its browser process goes away, so there is
      // nothing to listen for.
      onDisconnect: () => {},
    };
  }
  const send = process.send?.bind(process);
  if (!send)
    throw new Error(
      'the worker must be started by a host (utilityProcess.fork or child_process.fork)',
    );
  return {
    post: (message) => {
      // A send on a closed channel emits 'error' on `process`, an uncaught exception that would
      // end the worker in the middle of the clean stop it makes when its host is gone. The
      // channel can also die between the check and the send (a host killed with SIGKILL: EPIPE
      // before 'disconnect' is seen), so the send's own error is taken too; the disconnect
      // follows and starts the clean stop.
      if (process.connected) send(message, undefined, undefined, () => undefined);
    },
    onMessage: (listener) => {
      process.on('message', listener);
    },
    onDisconnect: (listener) => {
      process.once('disconnect', listener);
    },
  };
}
