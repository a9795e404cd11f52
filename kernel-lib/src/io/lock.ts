/**
 * An exclusive lock on a directory: `<dir>/.anomaly-lab.lock`, created with O_EXCL and holding
 * the owner's pid, host and process start time. Released on `release()` and, as a fallback, when
 * the process exits. A lock whose owner is gone is stale and taken over:
 * - same host, pid not running → stale;
 * - same host, pid running but with another start time → the pid was reused → stale;
 * - another host → cannot be checked from here → refused (the message says how to remove it).
 * Node has no flock(); O_EXCL creation is atomic on local file systems, and the take-over renames
 * the stale file away first and re-reads it, so two processes taking over the same stale lock
 * cannot both win.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const LOCK_FILE = '.anomaly-lab.lock';

export interface LockOwner {
  pid: number;
  host: string;
  /** Process start time (Linux: clock ticks since boot, /proc/<pid>/stat field 22); '' when unknown. */
  start: string;
  /** When the lock was taken (ISO). */
  since: string;
  /** What holds it, e.g. 'anomaly-lab train'. */
  purpose?: string;
}

/** The directory is locked by a live process (or one on another host). */
export class LockedError extends Error {
  readonly dir: string;
  readonly owner: LockOwner;
  constructor(dir: string, owner: LockOwner, why: string) {
    super(why);
    this.name = 'LockedError';
    this.dir = dir;
    this.owner = owner;
  }
}

/** Start time of a process, or undefined when it is not running; '' when unknowable (non-Linux). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    try {
      process.kill(pid, 0);
      return '';
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM' ? '' : undefined;
    }
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string') return undefined;
    return o;
  } catch {
    return undefined;
  }
}

/** Whether a lock's owner is certainly gone (same host only). */
function isStale(o: LockOwner | undefined): boolean {
  if (!o) return true; // unreadable/garbled: locks appear complete (written, then linked), so nobody is writing it
  if (o.host !== os.hostname()) return false;
  if (o.pid === process.pid && o.start === (processStartTime(process.pid) ?? '')) return false;
  const start = processStartTime(o.pid);
  if (start === undefined) return true;
  return Boolean(o.start) && Boolean(start) && start !== o.start;
}

export interface DirLock {
  readonly dir: string;
  readonly file: string;
  /** Set when a stale lock was taken over: its previous owner. */
  readonly tookOverFrom?: LockOwner;
  release(): void;
}

/** Describe an owner for messages: "pid 123 on host x since 2026-…". */
export function describeOwner(o: LockOwner): string {
  return `pid ${o.pid} on host ${o.host} since ${o.since}${o.purpose ? ` (${o.purpose})` : ''}`;
}

/**
 * Take the lock of `dir` (which must exist). Throws LockedError naming the owner when a live
 * process holds it.
 */
export function acquireDirLock(dir: string, purpose?: string): DirLock {
  const file = path.join(dir, LOCK_FILE);
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    start: processStartTime(process.pid) ?? '',
    since: new Date().toISOString(),
    ...(purpose ? { purpose } : {}),
  };
  let tookOverFrom: LockOwner | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    // The lock appears with its content already written: the owner record goes to a private file
    // first and is hard-linked into place (link fails with EEXIST when a lock exists). A reader can
    // therefore never see an empty lock from a live writer and mistake it for a stale one.
    const tmp = `${file}.new-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeSync(fd, JSON.stringify(me) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    let linked = false;
    try {
      fs.linkSync(tmp, file);
      linked = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    if (linked) return makeLock(dir, file, me, tookOverFrom);
    const owner = readOwner(file);
    if (!isStale(owner)) {
      const o = owner as LockOwner;
      const sameHost = o.host === os.hostname();
      throw new LockedError(
        dir,
        o,
        `${dir} is in use by ${describeOwner(o)}` + (sameHost ? '' : ` (another host: if that process is gone, delete ${file})`),
      );
    }
    // Take over: move the stale file aside, check that what we moved is the stale one.
    const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      fs.renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else took it over; retry
      throw e;
    }
    const moved = readOwner(aside);
    if (owner && (!moved || moved.pid !== owner.pid || moved.since !== owner.since)) {
      // We moved a fresh lock another process had just created: put it back if nobody else has.
      try {
        fs.linkSync(aside, file);
      } catch {
        /* someone else holds the lock now; our retry will see it */
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    fs.rmSync(aside, { force: true });
    tookOverFrom = owner ?? { pid: -1, host: '?', start: '', since: '?' };
  }
  throw new Error(`${dir}: could not take the lock ${file} (contended)`);
}

const held = new Set<DirLock>();
let exitHookInstalled = false;

function makeLock(dir: string, file: string, me: LockOwner, tookOverFrom?: LockOwner): DirLock {
  let released = false;
  const lock: DirLock = {
    dir,
    file,
    tookOverFrom,
    release(): void {
      if (released) return;
      released = true;
      held.delete(lock);
      // Remove only our own lock (a forced take-over by someone else must not be undone).
      const o = readOwner(file);
      if (o && o.pid === me.pid && o.since === me.since) fs.rmSync(file, { force: true });
    },
  };
  held.add(lock);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const l of [...held]) l.release();
    });
  }
  return lock;
}
