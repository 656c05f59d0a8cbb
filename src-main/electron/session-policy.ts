/**
 * The default session's policy: the app needs no camera, microphone, notifications, devices or
 * any other permission, and never downloads anything through the page, so all are refused —
 * whatever the page (or a script that got into it) asks for.
 */

/** The part of Electron's Session this needs; tests pass a fake. */
export interface PolicySession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: () => boolean): void;
  setDevicePermissionHandler(handler: () => boolean): void;
  on(event: 'will-download', listener: (event: { preventDefault(): void }) => void): unknown;
}

export function applySessionPolicy(session: PolicySession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  // HID, USB and serial devices are granted here, not through the permission handlers above.
  session.setDevicePermissionHandler(() => false);
  session.on('will-download', (event) => event.preventDefault());
}
