import { afterEach, beforeAll } from 'vitest';

// The page keeps a little state in localStorage (lib/checkpoints: the Compare ticks); each test
// starts from an empty one, as a fresh window does.
afterEach(() => localStorage.clear());

// jsdom has no modal dialogs; opening and closing (with its close event) is all the Checkpoints
// panel's dialogs rely on.
beforeAll(() => {
  HTMLDialogElement.prototype.showModal = function () {
    this.open = true;
  };
  HTMLDialogElement.prototype.close = function () {
    this.open = false;
    this.dispatchEvent(new Event('close'));
  };
});
