import { afterEach } from 'vitest';

// The page keeps a little state in localStorage (lib/checkpoints: the Compare ticks); each test
// starts from an empty one, as a fresh window does.
afterEach(() => localStorage.clear());
