/**
 * The hostile corpus of issue 11 (test/hostile/corpus/, written by generate-corpus.js): each file
 * goes through the real CLI as a child process under a 10 s / 1 GiB limit and must end with a
 * non-zero exit and exactly one stderr line naming it.
 *
 * HOSTILE_TIMEOUT_MS / HOSTILE_MAX_RSS_MB loosen the limits to measure unfixed behaviour, and
 * HOSTILE_REPORT=1 prints a table of exit, time, peak memory and message per case.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BACKEND_NOTICE,
  DEFAULT_MAX_RSS_BYTES,
  DEFAULT_TIMEOUT_MS,
  LimitedRunResult,
  expectCleanFailure,
  runCliLimited,
  runNodeLimited,
} from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const gen = require('./generate-corpus.js') as {
  CASES: Record<string, { what: string; args: (file: string, out: string) => string[] }>;
  companions: (out: string) => void;
};

const CORPUS = path.join(__dirname, 'corpus');
const timeoutMs = Number(process.env.HOSTILE_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS);
const maxRssBytes = process.env.HOSTILE_MAX_RSS_MB ? Number(process.env.HOSTILE_MAX_RSS_MB) * 2 ** 20 : DEFAULT_MAX_RSS_BYTES;
const report: string[] = [];

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'al-hostile-'));
});
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  if (process.env.HOSTILE_REPORT) console.log(report.join('\n'));
});

test('the committed corpus is what generate-corpus.js writes (reproducible)', async () => {
  const dir = path.join(scratch, 'regenerated');
  // A child node: the generator imports ESM-only packages (hyparquet-writer, h5wasm), which jest's
  // CommonJS runtime cannot.
  const r = await runNodeLimited([path.join(__dirname, 'generate-corpus.js'), dir], { timeoutMs: 120_000, maxRssBytes: 2 * 1024 ** 3 });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(
    fs
      .readdirSync(dir)
      .filter((f) => !f.startsWith('.'))
      .sort(),
  ).toEqual(Object.keys(gen.CASES).sort());
  for (const name of Object.keys(gen.CASES)) {
    const committed = fs.readFileSync(path.join(CORPUS, name));
    const fresh = fs.readFileSync(path.join(dir, name));
    // HDF5 stamps the root group with its creation times (and that header's checksum): h5wasm
    // cannot turn that off, so .h5 files may differ in those few bytes only.
    let differing = 0;
    for (let i = 0; i < Math.min(committed.length, fresh.length); i++) if (committed[i] !== fresh[i]) differing++;
    const allowed = name.endsWith('.h5') ? 16 : 0;
    expect({ name, length: fresh.length, withinAllowedDifferences: differing <= allowed }).toEqual({
      name,
      length: committed.length,
      withinAllowedDifferences: true,
    });
  }
}, 60_000);

describe('each hostile file ends with one line naming it, within 10 s and 1 GiB', () => {
  for (const [name, c] of Object.entries(gen.CASES)) {
    test(
      `${name}: ${c.what}`,
      async () => {
        const out = fs.mkdtempSync(path.join(scratch, 'case-'));
        gen.companions(out);
        const file = path.join(CORPUS, name);
        const r: LimitedRunResult = await runCliLimited(c.args(file, out), {
          timeoutMs,
          maxRssBytes,
          env: { ANOMALY_LAB_LIMITS: undefined },
        });
        const first = r.stderr.split('\n').find((l) => l.trim() !== '' && !BACKEND_NOTICE.test(l)) ?? '';
        report.push(
          `${name.padEnd(30)} exit ${String(r.code ?? r.signal).padEnd(7)} ${String(r.wallMs).padStart(6)} ms ${(r.peakRssBytes / 2 ** 20).toFixed(0).padStart(6)} MiB ${r.killedFor ? `KILLED(${r.killedFor}) ` : ''}lines ${r.stderr.split('\n').filter((l) => l.trim()).length} | ${first.slice(0, 240)}`,
        );
        // predict/estimate/inspect start tfjs before reading the model and say which backend they got.
        expectCleanFailure(r, file, { timeoutMs, maxRssBytes, notices: [BACKEND_NOTICE] });
        // Nothing was written for the run.
        expect(fs.existsSync(path.join(out, 'logits.npy')) || fs.existsSync(path.join(out, 'scores.npy'))).toBe(false);
      },
      timeoutMs + 30_000,
    );
  }
});

test('a limit raised through ANOMALY_LAB_LIMITS lets a trusted file through (the 2 MB .npy header)', async () => {
  const file = path.join(CORPUS, 'header-2mb.npy');
  const r = await runCliLimited(['metrics', '--scores', file, '--labels', file, '--json'], {
    env: { ANOMALY_LAB_LIMITS: 'NPY_MAX_HEADER_BYTES=3MiB' },
  });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(r.stdout)).toHaveProperty('with_pa');
  const bogus = await runCliLimited(['metrics', '--scores', file, '--labels', file], {
    env: { ANOMALY_LAB_LIMITS: 'NPY_MAX_HEADER=3MiB' },
  });
  expect(bogus.code).toBe(1);
  expect(bogus.stderr).toContain("ANOMALY_LAB_LIMITS: unknown limit 'NPY_MAX_HEADER'");
});
