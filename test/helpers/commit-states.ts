/**
 * What a Ctrl-C can leave in an output directory while a command commits its outputs
 * (io/atomic.ts `writeFilesAtomic`), for the commit tests of `power detect` and `power train`.
 *
 * An interrupt is acted on only between events (the CLI's SIGINT handler is a JS callback; a second
 * Ctrl-C removes the atomic temporaries and exits), so the states that matter are the directory as
 * it stands whenever the run's synchronous code yields. `observeStates` records exactly those:
 * after every file-system change under `out`, a microtask (microtasks run at every await, a
 * superset of the points where a signal callback can run) reads the directory without the
 * temporaries, which the exit removes.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { AbortedError } from 'anomaly-lab/core';

// The real module object (not the import helper's copy), so the spies see the library's calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = require('fs') as typeof import('fs');

/** Names of the atomic writers' temporaries. */
export const TEMPORARY = /\.tmp-/;

/** The outputs under `out` (relative path → sha256 prefix), subdirectories included, temporaries aside. */
export function outputState(out: string, prefix = ''): Record<string, string> {
  const s: Record<string, string> = {};
  for (const f of nodeFs.readdirSync(out).sort()) {
    if (TEMPORARY.test(f)) continue;
    const p = path.join(out, f);
    if (nodeFs.statSync(p).isDirectory()) Object.assign(s, outputState(p, `${prefix}${f}/`));
    else s[prefix + f] = createHash('sha256').update(nodeFs.readFileSync(p)).digest('hex').slice(0, 16);
  }
  return s;
}

/** Runs `run` and records the state of `out` at every point a Ctrl-C could act, and the temporaries seen there. */
export async function observeStates<T>(
  out: string,
  run: () => Promise<T>,
): Promise<{ result: T; seen: Array<Record<string, string>>; temporaries: Set<string> }> {
  const seen: Array<Record<string, string>> = [];
  const temporaries = new Set<string>();
  const under = (p: unknown): boolean => typeof p === 'string' && path.resolve(p).startsWith(out + path.sep);
  // Reading the state opens files too (readFileSync calls fs.openSync): those reads are not changes.
  let reading = false;
  const observe = (): void =>
    queueMicrotask(() => {
      reading = true;
      try {
        for (const f of nodeFs.readdirSync(out)) if (TEMPORARY.test(f)) temporaries.add(f);
        seen.push(outputState(out));
      } finally {
        reading = false;
      }
    });
  // Node 20's rmSync loads its rimraf on first use, binding fs.unlinkSync & co. then: load it
  // before the spies, or it keeps calling the spies, which do nothing once restored.
  nodeFs.rmSync(path.join(out, '..', 'no-such-file'), { recursive: true, force: true });
  const spies = (['mkdirSync', 'openSync', 'renameSync', 'rmSync', 'rmdirSync', 'unlinkSync', 'writeFileSync'] as const).map((name) => {
    const original = nodeFs[name] as (...args: unknown[]) => unknown;
    return jest.spyOn(nodeFs, name).mockImplementation(((...args: unknown[]) => {
      const result = original.apply(nodeFs, args);
      const opensForReading = name === 'openSync' && (args[1] === undefined || args[1] === 'r');
      if (!reading && !opensForReading && (under(args[0]) || under(args[1]))) observe();
      return result;
    }) as never);
  });
  let result: T;
  try {
    result = await run();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  await Promise.resolve();
  return { result, seen, temporaries };
}

/** Every observed state is the first run complete or the second; only the stage directory was ever visible; none is left. */
export function expectOneRunComplete(
  out: string,
  observed: { seen: Array<Record<string, string>>; temporaries: Set<string> },
  first: Record<string, string>,
  second: Record<string, string>,
): void {
  const { seen, temporaries } = observed;
  // Observed: the states while staging (the first run's outputs) and after the commit.
  expect(seen.length).toBeGreaterThan(5);
  const mixed = seen.filter((s) => JSON.stringify(s) !== JSON.stringify(first) && JSON.stringify(s) !== JSON.stringify(second));
  expect(mixed).toEqual([]);
  expect(seen.some((s) => JSON.stringify(s) === JSON.stringify(first))).toBe(true);
  // The only temporary visible at those points is the stage directory (removed by a second Ctrl-C).
  for (const t of temporaries) expect(t).toMatch(/^\.outputs\.tmp-\d+-\d+-[a-z0-9]+$/);
  expect(nodeFs.readdirSync(out).filter((f) => TEMPORARY.test(f))).toEqual([]);
}

/**
 * A first Ctrl-C (the AbortSignal) at the first change under `out` (the stage directory being
 * created) writes nothing: an existing `out` keeps its outputs, a new one is not left behind.
 * `first` writes an earlier run's outputs; `second` is the run that is stopped.
 */
export async function expectAbortWhileStagingWritesNothing(
  root: string,
  first: (out: string) => Promise<unknown>,
  second: (out: string, signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  for (const existing of [true, false]) {
    const out = path.join(root, existing ? 'abort-existing' : 'abort-new');
    if (existing) await first(out);
    const before = existing ? outputState(out) : undefined;
    const controller = new AbortController();
    const original = nodeFs.mkdirSync;
    const spy = jest.spyOn(nodeFs, 'mkdirSync').mockImplementation(((p: string, o?: unknown) => {
      const r = original.call(nodeFs, p, o as never);
      if (TEMPORARY.test(path.basename(String(p))) && path.dirname(path.resolve(String(p))) === out) controller.abort();
      return r;
    }) as never);
    try {
      await expect(second(out, controller.signal)).rejects.toThrow(AbortedError);
    } finally {
      spy.mockRestore();
    }
    expect(controller.signal.aborted).toBe(true);
    if (existing) expect(outputState(out)).toEqual(before);
    if (existing) expect(nodeFs.readdirSync(out).filter((f) => TEMPORARY.test(f))).toEqual([]);
    else expect(nodeFs.existsSync(out)).toBe(false);
  }
}
