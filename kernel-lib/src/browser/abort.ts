/**
 * Stopping long library loops: they take the standard `AbortSignal` (`signal` in their options)
 * and, once it is aborted, stop at their next safe point (between batches, epochs, steps) and
 * throw an `AbortedError` naming what stopped and how far it got. The library never listens to
 * process signals itself; a front end owns that (the CLI wires Ctrl-C to an AbortController).
 */

export interface AbortProgress {
  /** Units done when it stopped (windows, epochs, steps). */
  done?: number;
  /** Units there were to do. */
  total?: number;
  /** What the units are ('windows', 'epochs', 'steps'). */
  unit?: string;
  /** A result that is complete in itself for the units done (e.g. the steps scored so far), if the loop has one. */
  partial?: unknown;
}

function progressWords(p: AbortProgress): string {
  return p.done !== undefined && p.total !== undefined ? `after ${p.done} of ${p.total}${p.unit ? ` ${p.unit}` : ''}` : '';
}

export class AbortedError extends Error {
  /** What stopped: the library function or phase ('estimateScores', 'trainDetector'). */
  readonly what: string;
  readonly done?: number;
  readonly total?: number;
  readonly unit?: string;
  readonly partial?: unknown;

  constructor(what: string, progress: AbortProgress = {}) {
    super(`${what} stopped: aborted${progressWords(progress) ? ` ${progressWords(progress)}` : ''}`);
    this.name = 'AbortedError';
    this.what = what;
    this.done = progress.done;
    this.total = progress.total;
    this.unit = progress.unit;
    this.partial = progress.partial;
  }

  /** How far it got, as words: 'after 3 of 10 windows' (empty when unknown). */
  get progressText(): string {
    return progressWords(this);
  }
}

/** Throw an `AbortedError` for `what` when `signal` is aborted (a safe point of a loop). */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, progress?: AbortProgress): void {
  if (signal?.aborted) throw new AbortedError(what, progress);
}

// setImmediate is Node's (the core also compiles for the browser, without Node's types)
const host = globalThis as { setImmediate?: (f: () => void) => unknown };

/** Let the event loop turn once (pending I/O and signals are handled). */
const nextTurn = (): Promise<void> =>
  new Promise<void>((resolve) => (typeof host.setImmediate === 'function' ? host.setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * A safe point after synchronous work: let pending events run first (a Ctrl-C that arrived during
 * a long synchronous computation is only delivered when the event loop turns), then check.
 */
export async function abortPoint(signal: AbortSignal | undefined, what: string, progress?: AbortProgress): Promise<void> {
  if (!signal) return;
  await nextTurn();
  throwIfAborted(signal, what, progress);
}

/**
 * The safe point of a loop: checks `signal`, and lets the event loop turn at most every `everyMs`
 * first. Needed because a loop whose awaits resolve as microtasks (tfjs wasm/cpu `data()`) never
 * lets the event loop run, so an abort from an event (a Ctrl-C) would only arrive after the loop.
 */
export function loopAbortPoint(signal: AbortSignal | undefined, what: string, everyMs = 100): (progress?: AbortProgress) => Promise<void> {
  let last = Date.now();
  return async (progress) => {
    if (!signal) return;
    if (Date.now() - last >= everyMs) {
      await nextTurn();
      last = Date.now();
    }
    throwIfAborted(signal, what, progress);
  };
}
