/**
 * Access to ../shared (seeds, real data, fixtures). Tests that need it use `describeShared`, which
 * skips with a visible message when ../shared is absent (a clone without the reference material).
 */
import * as fs from 'fs';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SHARED_DIR = process.env.ANOMALY_LAB_SHARED ?? path.resolve(REPO_ROOT, '..', 'shared');
export const HAS_SHARED = fs.existsSync(path.join(SHARED_DIR, 'README.md'));

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

/** describe() when ../shared exists, otherwise describe.skip with a message saying why. */
export function describeShared(name: string, fn: () => void): void {
  if (HAS_SHARED) {
    describe(name, fn);
  } else {
    console.warn(`SKIPPED "${name}": ${SHARED_DIR} is absent (reference fixtures and real data live there)`);
    describe.skip(name, fn);
  }
}
