/**
 * Runs the real `anomaly-lab` CLI (kernel-lib/bin/anomaly-lab.js, built by jest's globalSetup) as a
 * child process under a wall-time and a memory limit, for hostile-input and hardening tests.
 *
 * - Time: the child is SIGKILLed when it exceeds `timeoutMs` (default 10 s); `killedFor: 'time'`.
 * - Memory: the parent polls /proc/<pid>/status (VmRSS) every 20 ms and SIGKILLs the child above
 *   `maxRssBytes` (default 1 GiB); `killedFor: 'memory'`. The reported peak is the child's own
 *   kernel high-water mark (getrusage maxRSS, written on exit by rss-probe.js), or the polled peak
 *   when the child was killed. (RLIMIT_AS is no option: wasm reserves many GiB of address space.)
 *
 * `expectCleanFailure(result, input)` holds the contract of issue 11: non-zero exit, exactly one
 * line on stderr naming the input, no JS internals, within the limits.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/shared';

export const CLI = path.join(REPO_ROOT, 'kernel-lib/bin/anomaly-lab.js');
const RSS_PROBE = path.join(__dirname, 'rss-probe.js');

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RSS_BYTES = 1024 ** 3;

export interface LimitedRunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Wall-time limit (default 10 s); the child is killed past it. */
  timeoutMs?: number;
  /** Resident-memory limit (default 1 GiB); the child is killed past it. */
  maxRssBytes?: number;
  /** Text fed to the child's stdin (default: none, stdin closed). */
  stdin?: string;
  /** Extra node flags placed before the script (e.g. ['--stack-size=500']). */
  nodeArgs?: string[];
}

export interface LimitedRunResult {
  /** Exit code, or null when the child died from a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident set size in bytes (see the file comment). */
  peakRssBytes: number;
  /** Set when the harness killed the child. */
  killedFor?: 'time' | 'memory';
  args: string[];
}

function readVmRss(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // exited, or no procfs
  }
}

/** Runs `node anomaly-lab.js ...args` under the limits. Never rejects for the child's failure. */
export function runCliLimited(args: string[], opts: LimitedRunOptions = {}): Promise<LimitedRunResult> {
  return runNodeLimited([CLI, ...args], opts).then((r) => ({ ...r, args }));
}

/** Same as runCliLimited for any node script: `argv` starts with the script path. */
export function runNodeLimited(argv: string[], opts: LimitedRunOptions = {}): Promise<LimitedRunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRss = opts.maxRssBytes ?? DEFAULT_MAX_RSS_BYTES;
  const rssFile = path.join(os.tmpdir(), `anomaly-lab-rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...(opts.env ?? {}) })) if (v !== undefined) env[k] = v;
  env.ANOMALY_LAB_RSS_FILE = rssFile;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '-r', RSS_PROBE, ...argv], {
      cwd: opts.cwd ?? REPO_ROOT,
      env,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const cap = 4 * 1024 * 1024; // a runaway child must not fill the parent's memory either
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < cap) stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < cap) stderr += d;
    });
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    let polledPeak = 0;
    let killedFor: LimitedRunResult['killedFor'];
    const kill = (why: 'time' | 'memory'): void => {
      if (killedFor) return;
      killedFor = why;
      child.kill('SIGKILL');
    };
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      const rss = readVmRss(child.pid);
      if (rss !== undefined) {
        polledPeak = Math.max(polledPeak, rss);
        if (rss > maxRss) kill('memory');
      }
    }, 20);
    const timer = setTimeout(() => kill('time'), timeoutMs);
    child.on('error', (e) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      let peak = polledPeak;
      try {
        peak = Math.max(peak, Number(fs.readFileSync(rssFile, 'utf8')) || 0);
        fs.unlinkSync(rssFile);
      } catch {
        /* killed before it could write */
      }
      resolve({ code, signal, stdout, stderr, wallMs: Date.now() - started, peakRssBytes: peak, killedFor, args: argv });
    });
  });
}

/** Messages of JavaScript internals that must never reach a user (issue 11). */
export const INTERNAL_ERROR_PATTERNS: RegExp[] = [
  /Invalid typed array length/,
  /Maximum call stack size exceeded/,
  /Invalid code point/,
  /Invalid string length/,
  /Invalid array length/,
  /Array buffer allocation failed/,
  /Cannot create a string longer than/,
  /\[object Object\]/,
  /is not a function/,
  /Cannot read propert(y|ies) of (undefined|null)/,
  /is not iterable/,
  /HDF5-DIAG/,
  /^\s+at .+\(.*:\d+:\d+\)$/m, // a stack trace
  /JavaScript heap out of memory/,
];

/**
 * Informational stderr lines a command prints before its work starts (not errors): tfjs's backend
 * notice. Pass them as `notices` where a command legitimately prints one (it is then not counted).
 */
export const BACKEND_NOTICE = /^anomaly-lab: tfjs backend '/;

/** The one-line-error contract; returns the line. Uses jest's expect (call from a test). */
export function expectCleanFailure(
  r: LimitedRunResult,
  input: string,
  limits: { timeoutMs?: number; maxRssBytes?: number; notices?: RegExp[] } = {},
): string {
  const timeoutMs = limits.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRss = limits.maxRssBytes ?? DEFAULT_MAX_RSS_BYTES;
  const where = `anomaly-lab ${r.args.join(' ')}`;
  const summary = `${where}\n  exit ${r.code} signal ${r.signal} killed ${r.killedFor ?? 'no'} wall ${r.wallMs} ms peak ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB\n  stderr: ${r.stderr.slice(0, 2000)}`;
  // One assertion object per property keeps the failure message readable.
  expect({ killedFor: r.killedFor, summary }).toEqual({ killedFor: undefined, summary });
  expect({ nonZeroExit: r.code !== null && r.code !== 0, summary }).toEqual({ nonZeroExit: true, summary });
  expect({ underTime: r.wallMs < timeoutMs, summary }).toEqual({ underTime: true, summary });
  expect({ underMemory: r.peakRssBytes < maxRss, summary }).toEqual({ underMemory: true, summary });
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !(limits.notices ?? []).some((re) => re.test(l)));
  expect({ stderrLines: lines.length, summary }).toEqual({ stderrLines: 1, summary });
  const line = lines[0];
  expect({ namesInput: line.includes(input) || line.includes(path.basename(input)), input, line }).toEqual({
    namesInput: true,
    input,
    line,
  });
  for (const re of INTERNAL_ERROR_PATTERNS) {
    expect({ leaks: re.test(line) ? String(re) : null, line }).toEqual({ leaks: null, line });
  }
  return line;
}
