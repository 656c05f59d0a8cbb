import type { TestProject } from 'vitest/node';
import { findChromium } from './find-chromium';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The browser the e2e tests launch, found once for the whole run. */
    chromiumPath: string;
  }
}

/**
 * Vitest global setup of the projects that drive a browser: runs once, and only when one of
 * their files is in the run. Without a browser the run stops here with one line saying how to
 * get one, instead of every e2e file failing on its own with playwright's launch error.
 */
export default function setup(project: TestProject): void {
  const found = findChromium();
  if ('problem' in found) {
    const error = new Error(found.problem);
    // The line is the whole story: a stack into this file would only bury it.
    error.stack = `Error: ${found.problem}`;
    throw error;
  }
  project.provide('chromiumPath', found.path);
}
