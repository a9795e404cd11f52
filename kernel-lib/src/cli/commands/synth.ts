/**
 * `anomaly-lab synth`: build a labelled evaluation set from normal data, as the ESS project did.
 *
 *   anomaly-lab synth --data <normal series file|dir> [--columns a,b,...] --out <dir>
 *                     [--seed N] [--anomalies N] [--types soft_replacement,...]
 *
 * Writes <out>/test.npy (length, C) float32, <out>/test_label.npy (length,) uint8 and
 * <out>/test_intervals.json (each anomaly's type, rows, columns, plus the scaling used).
 * The anomalies are injected on min-max scaled data in [0, 1] (the synthesis assumes that range);
 * by default test.npy is mapped back to the input's units (`--output_scale raw`) so that `train`
 * applies its own training scaler to it like to any other test file; `--output_scale unit` keeps
 * the [0, 1] values.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadSeries, selectColumns, MinMaxScaler, writeNpy, writeFileAtomic, type Series } from '../../io/index';
import {
  checkSynthOptions,
  synthesizeTestSet,
  SYNTH_ANOMALY_TYPES,
  SYNTH_ESS_ANOMALY_TYPES,
  ESS_COLUMNS,
  type EssContext,
} from '../../evaluation/index';
import { defineOptions, formatPercent } from '../../browser/index';
import { UsageError, checkFlags, holdSigint, notWrittenDir, parseCommandArgs } from '../args';
import { COMMANDS } from '../registry';

const { summary } = COMMANDS.synth;

const SPECS = defineOptions({
  data: { kind: 'string', required: true, help: 'normal series: .npy, .parquet, .csv or a directory of them' },
  columns: { kind: 'list', help: 'columns to use, comma-separated (default: every numeric column)' },
  out: { kind: 'string', required: true, output: 'dir', help: 'output directory (created if missing)' },
  seed: { kind: 'int', default: 0, help: 'random seed' },
  // the ranges of --anomalies, --types and the lengths are the library's (checkSynthOptions)
  anomalies: {
    kind: 'int',
    default: 5,
    help: 'number of anomalies to inject (each 0.05–10% of the rows: 5 label about 20% on average)',
  },
  types: {
    kind: 'list',
    default: [...SYNTH_ANOMALY_TYPES],
    help: `anomaly types to draw from (${SYNTH_ANOMALY_TYPES.join(',')}; opt-in OpenESS types ${SYNTH_ESS_ANOMALY_TYPES.join(',')})`,
  },
  min_length: { kind: 'number', default: 0.0005, help: 'shortest anomaly as a fraction of the series' },
  max_length: { kind: 'number', default: 0.1, help: 'longest anomaly as a fraction of the series' },
  replacing_data: { kind: 'string', help: 'series the soft-replacement intervals come from (default: the data itself)' },
  output_scale: {
    kind: 'string',
    default: 'raw',
    choices: ['raw', 'unit'],
    help: "test.npy in the input's units or min-max scaled to [0, 1]",
  },
  nan: { kind: 'string', default: 'error', choices: ['error', 'drop', 'ffill'], help: 'missing values in the input' },
  json: { kind: 'boolean', default: false, help: 'print a JSON summary' },
});

/**
 * Map [0, 1] values back to the input's units. Unlike `MinMaxScaler.inverseTransform`, a constant
 * column uses a unit range, so an anomaly injected there is not flattened back to the constant.
 */
function toRawUnits(unit: Float32Array, scaler: MinMaxScaler): Float32Array {
  const C = scaler.nColumns;
  const out = new Float32Array(unit.length);
  for (let i = 0; i < unit.length; i += C) {
    for (let j = 0; j < C; j++) {
      const range = scaler.max[j] - scaler.min[j];
      out[i + j] = scaler.min[j] + unit[i + j] * (range > 0 ? range : 1);
    }
  }
  return out;
}

/** The OpenESS types' columns (by panli name) and, for voltage_gap, the VOLTAGE_GAP_CURVE column of the same file(s). */
async function essForSynth(file: string, data: Series, types: string[]): Promise<EssContext | undefined> {
  const temperature = types.includes('temperature_anomaly');
  const voltageGap = types.includes('voltage_gap');
  if (!temperature && !voltageGap) return undefined;
  const curve = voltageGap ? (await loadSeries(file, { columns: [ESS_COLUMNS.curve] }).catch(() => undefined))?.values : undefined;
  const ctx: EssContext = {};
  const need = (name: string, type: string): number => {
    const i = data.columns.indexOf(name);
    if (i < 0) throw new UsageError(`option --types ${type} needs a ${name} column (columns: ${data.columns.join(', ')})`);
    return i;
  };
  if (temperature) ctx.temperatureColumn = need(ESS_COLUMNS.temperature, 'temperature_anomaly');
  if (voltageGap) {
    ctx.voltageGapColumn = need(ESS_COLUMNS.voltageGap, 'voltage_gap');
    if (!curve) throw new UsageError(`option --types voltage_gap needs a ${ESS_COLUMNS.curve} column in ${file}`);
    ctx.voltageGapCurve = curve;
  }
  return ctx;
}

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab synth --data <file|dir> --out <dir> [--seed N] [--anomalies N]', summary);
  if (!options) return 0;
  // The library's one check of the synthesis options, before any data is read: a bad value is a
  // usage error (exit 2) in one line naming the flag.
  const checked = checkFlags(() =>
    checkSynthOptions({
      anomalies: options.anomalies,
      types: options.types,
      minLengthFraction: options.min_length,
      maxLengthFraction: options.max_length,
    }),
  );
  const { anomalies, types } = checked;
  const minLength = checked.minLengthFraction;
  const maxLength = checked.maxLengthFraction;
  const columns = options.columns;
  const nan = options.nan;
  const outDir = options.out;
  // (parseCommandArgs has rejected an --out that is not a directory.)
  // Ctrl-C: acted on before anything is written (the synthesis itself is synchronous).
  const nothingWritten = notWrittenDir('--out', outDir);
  const sigint = holdSigint('synth');

  const data = await loadSeries(options.data, { columns, nan });
  if (data.length < 100) throw new Error(`${data.source}: ${data.length} rows are too few to hold synthetic anomalies (need ≥ 100)`);
  const scaler = MinMaxScaler.fit(data);
  const unit = { ...data, values: scaler.transform(data.values, data.columns.length, { clip: true }) };

  let replacing;
  if (options.replacing_data !== undefined) {
    let rep = await loadSeries(options.replacing_data, { columns: columns ?? data.columns, nan });
    if (rep.columns.join(',') !== data.columns.join(',')) rep = selectColumns(rep, data.columns);
    // The replacement stretches enter in the test data's scale (clipped), as external intervals of
    // the same physical quantities.
    replacing = { ...rep, values: scaler.transform(rep.values, rep.columns.length, { clip: true }) };
  }

  const synth = synthesizeTestSet(unit, {
    seed: options.seed,
    anomalies,
    types,
    minLengthFraction: minLength,
    maxLengthFraction: maxLength,
    replacingData: replacing,
    ess: await essForSynth(options.data, data, types),
  });
  const outputScale = options.output_scale;
  const values = outputScale === 'raw' ? toRawUnits(synth.values, scaler) : synth.values;

  await sigint.beforeWriting(nothingWritten);
  fs.mkdirSync(outDir, { recursive: true });
  const testFile = path.join(outDir, 'test.npy');
  const labelFile = path.join(outDir, 'test_label.npy');
  const intervalsFile = path.join(outDir, 'test_intervals.json');
  writeNpy(testFile, values, [data.length, data.columns.length]);
  writeNpy(labelFile, synth.labels, [data.length]);
  const labelled = synth.labels.reduce((s, v) => s + v, 0);
  const meta = {
    source: data.source,
    replacing_data: options.replacing_data ?? null,
    columns: data.columns,
    length: data.length,
    seed: options.seed,
    anomalies,
    types,
    min_length: minLength,
    max_length: maxLength,
    output_scale: outputScale,
    // The scaling the anomalies were injected under (test.npy is in these units when output_scale = unit).
    scaler: scaler.toJSON(),
    label_rate: labelled / data.length,
    intervals: synth.intervals.map((iv) => ({ ...iv, column_names: iv.columns.map((c) => data.columns[c]) })),
  };
  writeFileAtomic(intervalsFile, JSON.stringify(meta, null, 2) + '\n');

  const summaryOut = {
    test: testFile,
    test_label: labelFile,
    intervals: intervalsFile,
    length: data.length,
    columns: data.columns,
    anomalies: synth.intervals.length,
    label_rate: meta.label_rate,
  };
  if (options.json) {
    process.stdout.write(JSON.stringify(summaryOut, null, 2) + '\n');
  } else {
    const byType = new Map<string, number>();
    for (const iv of synth.intervals) byType.set(iv.type, (byType.get(iv.type) ?? 0) + 1);
    process.stdout.write(
      `wrote ${testFile} (${data.length}, ${data.columns.length}) float32, ${labelFile} (${labelled} anomalous rows, ${formatPercent(meta.label_rate, 2)}), ${intervalsFile}\n` +
        `anomalies: ${[...byType.entries()].map(([t, k]) => `${k} ${t}`).join(', ')}\n`,
    );
  }
  return 0;
}
