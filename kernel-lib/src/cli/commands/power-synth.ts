/**
 * `anomaly-lab power synth`: write a generated three-phase recording (CSV) and its injected
 * fault intervals (JSON) — the demo / workshop data set.
 */
import * as path from 'path';
import { defineOptions } from '../../browser/index';
import { writeFileAtomic } from '../../io/index';
import { FAULT_TYPES, type FaultType } from '../../power/options';
import * as fs from 'fs';
import { UsageError, holdSigint, notWritten, parseCommandArgs } from '../args';
import { POWER_COMMANDS } from '../registry';

const SPECS = defineOptions({
  out: { kind: 'string', required: true, output: 'file', help: 'file to write: .csv or .parquet (Time,Va,Vb,Vc,Ia,Ib,Ic)' },
  faults_out: { kind: 'string', output: 'file', help: 'JSON of the injected faults (default: <out>.faults.json)' },
  seed: { kind: 'int', default: 1, help: 'random seed' },
  frequency: { kind: 'number', default: 50, help: 'nominal frequency, Hz' },
  sample_rate: { kind: 'number', default: 10000, help: 'samples per second' },
  duration: { kind: 'number', default: 2, help: 'length in seconds' },
  noise: { kind: 'number', default: 0.01, help: 'white noise std as a fraction of peak values' },
  load_changes: { kind: 'int', help: 'number of load steps (default 2 per second)' },
  n_faults: { kind: 'int', default: 5, help: 'faults to inject (0 = normal data)' },
  fault_types: { kind: 'list', default: FAULT_TYPES, help: 'fault types to draw from' },
});

const isFaultType = (t: string): t is FaultType => (FAULT_TYPES as readonly string[]).includes(t);

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(
    argv,
    SPECS,
    'anomaly-lab power synth --out data.csv [--n_faults 5 --seed 1 ...]',
    POWER_COMMANDS.synth.summary,
  );
  if (!options) return 0;
  const types: FaultType[] = [];
  for (const t of options.fault_types) {
    if (!isFaultType(t)) throw new UsageError(`option --fault_types: unknown fault type '${t}' (choose from ${FAULT_TYPES.join(',')})`);
    types.push(t);
  }
  if (options.n_faults < 0) throw new UsageError('option --n_faults must be ≥ 0');
  // Ctrl-C: acted on before anything is written (generating is synchronous).
  const sigint = holdSigint('power synth');
  const { generatePowerData, powerDataToCsv, writePowerParquet } = await import('../../power/index.js');
  const res = generatePowerData({
    seed: options.seed,
    frequency: options.frequency,
    sampleRate: options.sample_rate,
    duration: options.duration,
    noise: options.noise,
    loadChanges: options.load_changes,
    nFaults: options.n_faults,
    faultTypes: types,
  });
  const out = options.out;
  const faultsOut = options.faults_out ?? out.replace(/\.(csv|parquet)$/i, '') + '.faults.json';
  const existed = [fs.existsSync(out), fs.existsSync(faultsOut)];
  await sigint.beforeWriting(() => `power synth: ${notWritten(out, existed[0])}, ${notWritten(faultsOut, existed[1])}`);
  if (/\.parquet$/i.test(out)) await writePowerParquet(out, res.data);
  else writeFileAtomic(out, powerDataToCsv(res.data));
  writeFileAtomic(faultsOut, JSON.stringify({ source: path.basename(out), options: res.options, faults: res.faults }, null, 2) + '\n');
  process.stderr.write(
    `power synth: ${res.data.length} rows (${res.options.duration} s at ${res.options.sampleRate} Hz), ${res.faults.length} faults (${res.faults.map((f) => f.type).join(', ') || 'none'}) → ${out}, ${faultsOut}\n`,
  );
  return 0;
}
