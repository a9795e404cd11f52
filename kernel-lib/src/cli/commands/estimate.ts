/**
 * `anomaly-lab estimate`: anomaly scores of a whole series by overlapping sliding windows, as the
 * original `estimate.py` (same schedule and overlap averaging).
 *
 *   anomaly-lab estimate --checkpoint <dir|.pt> --data <series .npy|.parquet|.csv|dir> [--columns a,b]
 *                        --batch_size 16 --window_sliding 16 --out scores.npy [--backend wasm|cpu|auto]
 *
 * --data_division file estimates each file of a directory on its own (the original's divisions).
 * Columns: --columns, else the checkpoint's recorded columns when the data have them, else every
 * numeric column. The checkpoint's min-max scaler is applied when it has one (--scale none skips it).
 * Output: (length, out) float32 sigmoid scores.
 *
 * A checkpoint of a run trained here records the estimation settings its recipe recommends
 * (`extra.estimation`: stride and EWMA smoothing, chosen on a selection day; docs/experiments.md);
 * they apply unless --window_sliding / --smoothing are given. Other checkpoints (a .pt, older runs)
 * get the original's stride 16 and raw scores.
 */
import { BACKEND_OPTION } from '../../backend-choices';
import { defineOptions, ewmaSmooth, formatFixed, formatPercent } from '../../browser/index';
import {
  ENGINE_OPTION,
  THREADS_OPTION,
  UsageError,
  abortPoint,
  checkFlags,
  parseCommandArgs,
  withSigintWritingOut,
  type ParsedOptions,
  type SigintStop,
} from '../args';
import { COMMANDS } from '../registry';

const { summary } = COMMANDS.estimate;

const SPECS = defineOptions({
  checkpoint: {
    kind: 'string',
    required: true,
    help: 'checkpoint directory of ours, a run directory (its final checkpoint) or a PyTorch state_dict.pt',
  },
  data: { kind: 'string', required: true, help: 'series: .npy (length, columns), .parquet, .csv, or a directory of them' },
  columns: { kind: 'list', help: "columns to use, in model order (default: the checkpoint's columns, else all numeric)" },
  out: { kind: 'string', required: true, output: 'file', help: '.npy to write, shaped (length, out), float32' },
  batch_size: { kind: 'int', default: 16, min: 1, help: 'windows per batch (as the original)' },
  window_sliding: {
    kind: 'int',
    min: 1,
    help: "stride between windows; must divide the window size (default: the run's recorded setting, else 16)",
  },
  smoothing: {
    kind: 'number',
    min: 0,
    help: "EWMA weight of the previous smoothed score, 0 = raw scores (default: the run's recorded setting, else 0)",
  },
  data_division: {
    kind: 'string',
    default: 'total',
    choices: ['total', 'file'],
    help: 'total: one series; file: estimate each file of a --data directory separately (no window straddles two files)',
  },
  scale: {
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'none'],
    help: "auto: apply the checkpoint's min-max scaler when it has one",
  },
  patch_size: { kind: 'int', help: 'patch size of a .pt model when shapes leave it open (several output columns)' },
  backend: BACKEND_OPTION,
  engine: ENGINE_OPTION,
  threads: THREADS_OPTION,
});

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(
    argv,
    SPECS,
    'anomaly-lab estimate --checkpoint <dir|.pt> --data <series> --out scores.npy [--batch_size 16 --window_sliding 16]',
    summary,
  );
  if (!options) return 0;
  if (options.smoothing !== undefined && !(options.smoothing < 1))
    throw new UsageError(`option --smoothing must be in [0, 1), got ${options.smoothing}`);
  // Ctrl-C: stop after the current batch; --out is written whole or not at all.
  return withSigintWritingOut('estimate', options.out, (stop) => estimate(options, stop), 'estimating');
}

async function estimate(options: ParsedOptions<typeof SPECS>, stop: SigintStop): Promise<number> {
  const batchSize = options.batch_size;
  const dataPath = options.data;
  const outFile = options.out;
  const requested = options.columns;
  // Loaded here, not at the top: `--help` and option errors without loading tfjs.
  const { initBackend } = await import('../../backend.js');
  const { loadCheckpoint, estimateScores, checkWindowSliding } = await import('../../anomalybert/index.js');
  const { writeNpy, MinMaxScaler, loadSeries, selectColumns } = await import('../../io/index.js');
  const { resolveEstimation } = await import('../../training/index.js');

  let series = await loadSeries(dataPath, requested ? { columns: requested } : {});
  await initBackend({ backend: options.backend });
  const overrides = options.patch_size !== undefined ? { patchSize: options.patch_size } : {};
  const { model, columns: ckptColumns, scaler: scalerJson, meta } = await loadCheckpoint(options.checkpoint, overrides);
  try {
    const settings = resolveEstimation(meta, { window_sliding: options.window_sliding, smoothing: options.smoothing });
    const sliding = settings.window_sliding;
    if (!requested && ckptColumns && ckptColumns.every((c) => series.columns.includes(c))) series = selectColumns(series, ckptColumns);
    const { inputDim, outputDim } = model.config;
    const nCols = series.columns.length;
    if (nCols !== inputDim) {
      const want = ckptColumns ? ` (${ckptColumns.join(', ')})` : '';
      throw new Error(
        `${dataPath}: the model expects ${inputDim} input columns${want}, the data have ${nCols} (${series.columns.join(', ')}); choose them with --columns`,
      );
    }
    if (series.length < model.windowSize) {
      throw new Error(`${dataPath}: ${series.length} rows, fewer than one window of ${model.windowSize} points`);
    }
    checkFlags(() => checkWindowSliding(sliding, model.windowSize));
    let values = series.values;
    let scaled = false;
    if (options.scale === 'auto' && scalerJson !== undefined) {
      values = MinMaxScaler.fromJSON(scalerJson).transform(values, nCols);
      scaled = true;
    }
    const t0 = Date.now();
    let windows = 0;
    let divisions: Array<[number, number]> | undefined;
    if (options.data_division === 'file' && series.segments) {
      divisions = series.segments.map((seg) => [seg.start, seg.start + seg.length] as [number, number]);
      const short = series.segments.find((seg) => seg.length < model.windowSize);
      if (short)
        throw new Error(`${short.file}: ${short.length} rows, fewer than one window of ${model.windowSize} points (--data_division file)`);
    }
    let lastReport = t0;
    const onProgress = (done: number, total: number): void => {
      windows = done;
      // Long runs (the ESS model takes seconds per window on wasm) report every 10 s on stderr.
      const now = Date.now();
      if (now - lastReport >= 10000 && done < total) {
        lastReport = now;
        process.stderr.write(
          `estimate: ${done}/${total} windows (${formatPercent(done / total, 0)}), ${formatFixed((now - t0) / 1000, 0)} s\n`,
        );
      }
    };
    const scores = await estimateScores(model, values, series.length, {
      batchSize,
      windowSliding: sliding,
      divisions,
      onProgress,
      engine: options.engine,
      threads: options.threads,
      signal: stop.signal,
    });
    const out =
      settings.smoothing > 0 ? smoothColumns(scores, series.length, outputDim, settings.smoothing, divisions, ewmaSmooth) : scores;
    await abortPoint(stop.signal, 'estimate', { done: windows, total: windows, unit: 'windows' });
    writeNpy(outFile, out, [series.length, outputDim]);
    const seconds = (Date.now() - t0) / 1000;
    const fromRun = settings.from_run.length > 0 ? `; ${settings.from_run.join(' and ')} from the run's recorded estimation` : '';
    process.stdout.write(
      `wrote ${outFile} (${series.length}, ${outputDim}) float32 scores from ${windows} windows in ${formatFixed(seconds, 1)} s` +
        `${scaled ? ' (min-max scaled with the checkpoint scaler)' : ''}; window_sliding ${sliding}, ` +
        `${settings.smoothing > 0 ? `EWMA-smoothed (weight ${settings.smoothing})` : 'raw scores'}${fromRun}\n`,
    );
    return 0;
  } finally {
    model.dispose();
  }
}

/** EWMA per output column, restarted at every division (no smoothing across files). */
function smoothColumns(
  scores: Float32Array,
  length: number,
  outDim: number,
  weight: number,
  divisions: Array<[number, number]> | undefined,
  ewma: (x: ArrayLike<number>, w: number) => Float32Array,
): Float32Array {
  const out = new Float32Array(scores.length);
  const parts = divisions ?? [[0, length]];
  for (let c = 0; c < outDim; c++) {
    for (const [a, b] of parts) {
      const col = new Float32Array(b - a);
      for (let i = a; i < b; i++) col[i - a] = scores[i * outDim + c];
      const sm = ewma(col, weight);
      for (let i = a; i < b; i++) out[i * outDim + c] = sm[i - a];
    }
  }
  return out;
}
