/**
 * Atomic writes: a reader (or a crash) never sees a half-written file or checkpoint directory.
 * Files are written to a temporary sibling, checked for their full size, fsynced and renamed;
 * the parent directory is fsynced after the rename so the new name survives a power cut.
 * Directories are assembled in a temporary sibling and swapped in with renames (the old one is
 * removed only after the new one is in place; `cleanAtomicLeftovers` puts an old one back when a
 * crash fell between the two renames).
 *
 * Nothing here deletes the last good copy before the new one is complete: on any error (ENOSPC,
 * EIO, a short write) the temporary is removed, the target is untouched, and the error names the
 * target file.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Leftover names: `.<target>.tmp-<pid>-<ms>-<rand>` (and `…-old` for a directory being replaced). */
const LEFTOVER = /^\.(.+)\.tmp-\d+-\d+-[a-z0-9]+(-old)?$/;

function tmpSibling(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'is a directory',
};

/** An error while writing one file: the message names the file the caller asked for. */
export class WriteError extends Error {
  readonly file: string;
  readonly code?: string;
  override readonly cause: unknown;
  constructor(file: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    const what = code && ERRNO_TEXT[code] ? `${ERRNO_TEXT[code]} (${code})` : ((cause as Error)?.message ?? String(cause));
    super(`cannot write ${file}: ${what}`);
    this.name = 'WriteError';
    this.cause = cause;
    this.file = file;
    this.code = code;
  }
}

function asWriteError(file: string, e: unknown): WriteError {
  return e instanceof WriteError ? e : new WriteError(file, e);
}

/** fsync a directory so renames/creations inside it are durable (no-op where directories can't be opened). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR/EPERM); the rename is still atomic.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * What an output path is now: 'missing', 'file', 'dir' or the kind of special file. Follows
 * symlinks (a link to /dev/null is a device).
 */
export function pathKind(p: string): 'missing' | 'file' | 'dir' | 'fifo' | 'socket' | 'character device' | 'block device' | 'other' {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    // ENOTDIR: a parent is a file, so the path cannot exist (creating it will fail, naming it).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return 'missing';
    throw e;
  }
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'other';
}

/**
 * The one check of an output path, for every writer and every `--out`: it must be a new path or
 * an existing regular file (`kind` 'file') / directory (`kind` 'dir'). FIFOs, devices and sockets
 * are refused: writing would block, or (renaming over them) replace e.g. /dev/null as root.
 * `label` names the field or option in the message.
 */
export function assertOutputPath(p: string, kind: 'file' | 'dir', label = 'output'): void {
  const k = pathKind(p);
  if (k === 'missing') return;
  if (k === kind) return;
  if (k === 'file' || k === 'dir') {
    throw new Error(
      `${label} ${JSON.stringify(p)} is an existing ${k === 'dir' ? 'directory' : 'file'}; expected a ${kind === 'dir' ? 'directory' : 'regular file'} or a new path`,
    );
  }
  throw new Error(
    `${label} ${JSON.stringify(p)} is a ${k}, not a ${kind === 'dir' ? 'directory' : 'regular file'}; give a new path or a ${kind === 'dir' ? 'directory' : 'regular file'}`,
  );
}

/**
 * Write a file, check that every byte arrived (a short write on a full disk must not publish a
 * truncated file) and fsync it before returning, so a later rename publishes complete contents.
 * Used for files inside a directory that `writeDirAtomic` publishes as a whole. Errors name `file`.
 */
export function writeFileSynced(file: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'w');
    let written = 0;
    while (written < bytes.byteLength) {
      const n = fs.writeSync(fd, bytes, written, bytes.byteLength - written);
      if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      written += n;
    }
    fs.fsyncSync(fd);
    const size = fs.fstatSync(fd).size;
    if (size !== bytes.byteLength) throw new Error(`wrote ${size} of ${bytes.byteLength} bytes`);
  } catch (e) {
    throw asWriteError(file, e);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Write a file atomically (temp file + size check + fsync + rename + fsync of the directory).
 * Creates parent directories. Refuses to replace anything but a regular file. On error the
 * previous file is untouched and the error names `target`.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  assertOutputPath(target, 'file');
  const dir = path.dirname(target);
  let tmp: string | undefined;
  try {
    fs.mkdirSync(dir, { recursive: true });
    tmp = tmpSibling(target);
    writeFileSynced(tmp, data);
    fs.renameSync(tmp, target);
    tmp = undefined;
    fsyncDir(dir);
  } catch (e) {
    // Name the target, not the temporary the bytes were going to.
    if (tmp && e instanceof WriteError && e.file === tmp) {
      fs.rmSync(tmp, { force: true });
      throw new WriteError(target, e.cause);
    }
    if (tmp) fs.rmSync(tmp, { force: true });
    throw asWriteError(target, e);
  }
}

/**
 * Temporary directories being filled by `writeDirAtomic` right now (filling may await). A process
 * that must exit at once (a second Ctrl-C) removes them with `removeAtomicTemporaries` first, so
 * no `.tmp-*` is left behind; the targets are untouched either way (only a rename publishes).
 */
const inProgress = new Set<string>();

/** Remove the temporaries of atomic writes still in progress (synchronous: safe right before `process.exit`). */
export function removeAtomicTemporaries(): void {
  for (const tmp of inProgress) fs.rmSync(tmp, { recursive: true, force: true });
  inProgress.clear();
}

/**
 * Build a directory atomically: `fill(tmpDir)` writes the contents into a fresh temporary
 * directory (use `writeFileSynced`), which then replaces `target`. If `fill` throws (e.g. a full
 * disk), `target` is untouched and the temporary is removed.
 */
export async function writeDirAtomic(target: string, fill: (tmpDir: string) => void | Promise<void>): Promise<void> {
  assertOutputPath(target, 'dir');
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = tmpSibling(target);
  fs.mkdirSync(tmp);
  inProgress.add(tmp);
  try {
    await fill(tmp);
    fsyncDir(tmp);
  } catch (e) {
    inProgress.delete(tmp);
    fs.rmSync(tmp, { recursive: true, force: true });
    // Name the file as it will be published (run/state/step_20/weights.bin), not the temporary.
    if (e instanceof WriteError && e.file.startsWith(tmp + path.sep))
      throw new WriteError(path.join(target, path.relative(tmp, e.file)), e.cause);
    throw asWriteError(target, e);
  }
  // From here on everything is synchronous: no exit can come between the renames.
  inProgress.delete(tmp);
  // Set while the previous `target` sits aside: if publishing the new one fails, it goes back.
  let old: string | undefined;
  try {
    if (fs.existsSync(target)) {
      // Two renames: a crash between them leaves `old` and `tmp`; cleanAtomicLeftovers restores `old`.
      old = tmpSibling(target) + '-old';
      fs.renameSync(target, old);
      fs.renameSync(tmp, target);
      const replaced = old;
      old = undefined;
      fsyncDir(parent);
      fs.rmSync(replaced, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, target);
      fsyncDir(parent);
    }
  } catch (e) {
    // An error (not a crash) between the two renames: put the previous directory back at once,
    // so `target` is never missing after a failed write.
    if (old !== undefined && !fs.existsSync(target)) {
      try {
        fs.renameSync(old, target);
      } catch {
        // leave it for cleanAtomicLeftovers, which restores `old` on the next run
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    throw asWriteError(target, e);
  }
}

/**
 * Publish the files of one run into a directory together, beside whatever else it holds (a
 * command's `--out` may be a user's directory: it is never replaced whole). `fill(stage)` writes
 * the files into a temporary directory inside `dir` (it may await; a second Ctrl-C removes the
 * stage through `removeAtomicTemporaries`); then each staged file is renamed over its target and
 * each name of `replaces` this run did not write (an output of an earlier run, e.g. an optional
 * one) is removed, all in one synchronous block. A staged directory (e.g. a model directory)
 * replaces the directory of that name whole: the old one is renamed aside, the new one in, and
 * the old one removed, in the same block; in `replaces` such a name ends with '/' ('detector/').
 * No Ctrl-C handler or other callback runs inside it, so what an interrupt leaves (or a reader sees) is the complete previous set or the complete
 * new one, never a mix. (A crash or SIGKILL within those few renames still can; the staged files
 * are fsynced first.) If `fill` throws, `dir` is unchanged (and removed again if this created it
 * and it is empty). Returns the published paths (sorted by name).
 */
export async function writeFilesAtomic(
  dir: string,
  fill: (stage: string) => void | Promise<void>,
  opts: { replaces?: readonly string[] } = {},
): Promise<string[]> {
  assertOutputPath(dir, 'dir');
  const created = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  const stage = tmpSibling(path.join(dir, 'outputs'));
  fs.mkdirSync(stage);
  inProgress.add(stage);
  const discard = (): void => {
    inProgress.delete(stage);
    fs.rmSync(stage, { recursive: true, force: true });
    try {
      if (created) fs.rmdirSync(dir);
    } catch {
      // not empty: something else was written into it meanwhile, and stays
    }
  };
  let names: string[] = [];
  // The names of `replaces` this run did not write, removed with the commit ('x/': a directory).
  const stale = (): Array<{ name: string; dir: boolean }> =>
    (opts.replaces ?? []).map((r) => ({ name: r.replace(/\/$/, ''), dir: r.endsWith('/') })).filter((r) => !names.includes(r.name));
  try {
    await fill(stage);
    names = fs.readdirSync(stage).sort();
    for (const name of names) {
      const st = fs.statSync(path.join(stage, name));
      if (!st.isFile() && !st.isDirectory())
        throw new Error(`${name} is not a regular file or a directory (only those are published together)`);
      assertOutputPath(path.join(dir, name), st.isDirectory() ? 'dir' : 'file');
    }
    for (const r of stale()) assertOutputPath(path.join(dir, r.name), r.dir ? 'dir' : 'file');
    fsyncDir(stage);
  } catch (e) {
    discard();
    if (e instanceof WriteError && e.file.startsWith(stage + path.sep))
      throw new WriteError(path.join(dir, path.relative(stage, e.file)), e.cause);
    throw e;
  }
  // From here on everything is synchronous: no Ctrl-C handler runs between the renames.
  inProgress.delete(stage);
  // Directories replaced by this commit, set aside until every new output is in place.
  const aside: Array<{ old: string; target: string }> = [];
  try {
    for (const name of names) {
      const target = path.join(dir, name);
      if (fs.statSync(path.join(stage, name)).isDirectory() && fs.existsSync(target)) {
        // A directory cannot be renamed over a non-empty one: the old one goes aside (a crash
        // right here leaves it as `…-old`, which cleanAtomicLeftovers puts back).
        const old = tmpSibling(target) + '-old';
        fs.renameSync(target, old);
        aside.push({ old, target });
      }
      fs.renameSync(path.join(stage, name), target);
    }
    for (const r of stale()) fs.rmSync(path.join(dir, r.name), { recursive: r.dir, force: true });
    fs.rmdirSync(stage);
    fsyncDir(dir);
    for (const a of aside) fs.rmSync(a.old, { recursive: true, force: true });
  } catch (e) {
    // An error (not a crash): a directory set aside whose new one did not arrive goes back.
    for (const a of aside) if (fs.existsSync(a.old) && !fs.existsSync(a.target)) fs.renameSync(a.old, a.target);
    fs.rmSync(stage, { recursive: true, force: true });
    throw asWriteError(dir, e);
  }
  return names.map((name) => path.join(dir, name));
}

/**
 * Remove leftovers of interrupted atomic writes inside a directory. A `-old` copy whose target is
 * missing (a crash between the two renames of `writeDirAtomic`) is renamed back, not deleted: it
 * is the last good copy.
 */
export function cleanAtomicLeftovers(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const names = fs.readdirSync(dir);
  for (const f of names) {
    const m = LEFTOVER.exec(f);
    if (!m || !m[2]) continue;
    const target = path.join(dir, m[1]);
    if (!fs.existsSync(target)) fs.renameSync(path.join(dir, f), target);
  }
  for (const f of fs.readdirSync(dir)) {
    if (LEFTOVER.test(f)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}
