/**
 * sha256 of input files, shared by manifests (runs/manifest.ts records and verifies them) and
 * by loaders that want to check a file against a recorded hash before parsing it. Only regular
 * files are hashed: a FIFO or a device named as an input would block or never end.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';

/** sha256 of a regular file, hex. Streams, so large files do not need to fit in memory. */
export async function sha256File(file: string): Promise<string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new Error(`cannot read ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new Error(`${JSON.stringify(file)} is not a regular file; only regular files can be hashed`);
  const hash = crypto.createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    const s = fs.createReadStream(file);
    s.on('data', (chunk) => hash.update(chunk));
    s.on('error', (e) => reject(new Error(`cannot read ${JSON.stringify(file)}: ${e.message}`)));
    s.on('end', () => resolve());
  });
  return hash.digest('hex');
}

/**
 * Check a file against an expected sha256 (hex, case-insensitive); throws one line naming the
 * file and both hashes when they differ. `label` names the field or option.
 */
export async function verifySha256(file: string, expected: string, label = 'input'): Promise<void> {
  const actual = await sha256File(file);
  if (actual.toLowerCase() !== expected.toLowerCase()) {
    throw new Error(`${label} ${JSON.stringify(file)}: sha256 ${actual} differs from the recorded ${expected}`);
  }
}
