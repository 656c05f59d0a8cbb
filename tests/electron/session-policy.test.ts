import { describe, expect, it } from 'vitest';
import { applySessionPolicy, type PolicySession } from '../../src-main/electron/session-policy';

function fakeSession() {
  const handlers: {
    request?: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void;
    check?: () => boolean;
    device?: () => boolean;
    download?: (event: { preventDefault(): void }) => void;
  } = {};
  const session: PolicySession = {
    setPermissionRequestHandler: (handler) => (handlers.request = handler),
    setPermissionCheckHandler: (handler) => (handlers.check = handler),
    setDevicePermissionHandler: (handler) => (handlers.device = handler),
    on: (_event, listener) => (handlers.download = listener),
  };
  return { session, handlers };
}

describe('applySessionPolicy', () => {
  it('refuses every permission request and check', () => {
    const { session, handlers } = fakeSession();
    applySessionPolicy(session);
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read']) {
      let granted: boolean | undefined;
      handlers.request!(null, permission, (answer) => (granted = answer));
      expect(granted, permission).toBe(false);
    }
    expect(handlers.check!()).toBe(false);
  });

  it('refuses HID, USB and serial devices and cancels downloads', () => {
    const { session, handlers } = fakeSession();
    applySessionPolicy(session);
    expect(handlers.device!()).toBe(false);
    let cancelled = false;
    handlers.download!({ preventDefault: () => (cancelled = true) });
    expect(cancelled).toBe(true);
  });
});
