/**
 * Atomic writes: a reader (or a crash) never sees a half-written file or checkpoint directory.
 * Files are written to a temporary sibling and renamed; directories are assembled in a temporary
 * sibling and swapped in with renames (the old one is removed only after the new one is in place).
 */
import * as fs from 'fs';
import * as path from 'path';

function tmpSibling(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
}

/**
 * Write a file and fsync it before returning, so a later rename publishes complete contents.
 * Used for files inside a directory that `writeDirAtomic` publishes as a whole.
 */
export function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write a file atomically (temp file + fsync + rename). Creates parent directories. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tmpSibling(target);
  writeFileSynced(tmp, data);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Build a directory atomically: `fill(tmpDir)` writes the contents into a fresh temporary
 * directory, which then replaces `target`. If `fill` throws, `target` is untouched.
 */
export async function writeDirAtomic(target: string, fill: (tmpDir: string) => void | Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tmpSibling(target);
  fs.mkdirSync(tmp);
  try {
    await fill(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (fs.existsSync(target)) {
    const old = tmpSibling(target) + '-old';
    fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, target);
  }
}

/** Remove leftovers of interrupted atomic writes inside a directory. */
export function cleanAtomicLeftovers(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) {
    if (/^\..+\.tmp-\d+-\d+-[a-z0-9]+(-old)?$/.test(f)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}
