/**
 * sha256 of bytes a loader already holds: zip entries carry a CRC-32 (checked by io/zip.ts), but
 * HDF5 (.h5, Keras weights), .npy, CSV and parquet pages have no checksum a reader could verify, so
 * a flipped byte loads silently. Manifests record the sha256 of their inputs (io/hash.ts hashes
 * files); loaders take an `expectedSha256` option and check the bytes they read, once.
 */
import * as crypto from 'crypto';

/** Lower-case hex sha256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Normalises an expected digest ('sha256:ABC…' or 'abc…'); one-line error naming `what` when malformed. */
export function normaliseSha256(expected: string, what = 'expectedSha256'): string {
  const hex = expected
    .trim()
    .replace(/^sha256:/i, '')
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${what}: '${expected.slice(0, 80)}' is not a sha256 digest (64 hex digits)`);
  return hex;
}

/** Throws `<name>: sha256 mismatch …` unless the bytes hash to `expected` (no-op when expected is undefined). */
export function checkSha256(bytes: Uint8Array, expected: string | undefined, name: string): void {
  if (expected === undefined) return;
  const want = normaliseSha256(expected);
  const got = sha256Hex(bytes);
  if (got !== want) throw new Error(`${name}: sha256 mismatch (expected ${want}, the file has ${got}): it changed since it was recorded`);
}
