/**
 * Parser scaling (issue 11): the inputs a file controls must cost linear time. Each case is timed
 * at three sizes (×4 apart) and reported with its empirical exponent log4(t(4n)/t(n)): ~1 is
 * linear, ~2 quadratic. Before issue 11, a 1 MB LONG4 integer never finished and a 150k-column CSV
 * header took 18 s.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSeries } from 'anomaly-lab';
import { encodeTorchStateDict, parseTorchCheckpoint, unpickle } from 'anomaly-lab/pickle';

function time(fn: () => unknown, repeat = 3): number {
  let best = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

async function timeAsync(fn: () => Promise<unknown>, repeat = 3): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

function scaling(sizes: number[], ms: number[]): { sizes: number[]; ms: number[]; exponent: number } {
  const exponent = Math.log(ms[ms.length - 1] / ms[ms.length - 2]) / Math.log(sizes[sizes.length - 1] / sizes[sizes.length - 2]);
  return { sizes, ms: ms.map((v) => Number(v.toFixed(2))), exponent: Number(exponent.toFixed(2)) };
}

export async function run(): Promise<object> {
  // LONG4 integers of n bytes (the limit raised for the measurement).
  const longSizes = [64 << 10, 256 << 10, 1 << 20];
  const longMs = longSizes.map((n) => {
    const b = new Uint8Array(2 + 5 + n + 1);
    b.set([0x80, 0x02, 0x8b, n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]);
    b.fill(0x5a, 7, 7 + n);
    b[7 + n] = 0x2e;
    return time(() => unpickle(b, { name: 'bench.pkl', limitOverrides: { PICKLE_MAX_INT_BYTES: 2 << 20 } }));
  });

  // CSV headers of n columns, one requested column (series reader).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-parsers-'));
  const csvSizes = [6_250, 25_000, 100_000];
  const csvMs: number[] = [];
  try {
    for (const n of csvSizes) {
      const f = path.join(dir, `wide-${n}.csv`);
      const names = Array.from({ length: n }, (_, i) => `c${i}`);
      fs.writeFileSync(f, `${names.join(',')}\n${names.map(() => '1').join(',')}\n`);
      csvMs.push(await timeAsync(() => loadSeries(f, { columns: [`c${n - 1}`] })));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Torch checkpoints of n float32 values (zip parse, CRC-32 of every entry, decode).
  const ptSizes = [1 << 20, 4 << 20, 16 << 20];
  const ptMs = ptSizes.map((n) => {
    const bytes = encodeTorchStateDict(new Map([['w', { shape: [n], data: new Float32Array(n).fill(0.5) }]]));
    return time(() => parseTorchCheckpoint(bytes, 'bench.pt'), 2);
  });

  return {
    long4_decode: scaling(longSizes, longMs),
    csv_header_columns: scaling(csvSizes, csvMs),
    torch_checkpoint_floats: { ...scaling(ptSizes, ptMs), mb_per_s: Number(((ptSizes[2] * 4) / 2 ** 20 / (ptMs[2] / 1000)).toFixed(0)) },
  };
}
