/**
 * `anomaly-lab reproduce --manifest <run dir|manifest.json> [--out <dir>]`: re-run the recorded
 * command into a fresh directory on the recorded backend and compare the metrics. Exit 0 when every
 * metric matches within tolerance, 1 otherwise (the differences are listed).
 */
import { spawn } from 'child_process';
import * as path from 'path';
import type { CommandRunner } from '../../report/index';
import { defineOptions } from '../../browser/index';
import { InterruptedError, UsageError, parseCommandArgs, stopOnSigint } from '../args';
import { COMMANDS } from '../registry';

/**
 * The re-run is a separate `anomaly-lab` process: its working directory, backend variable and
 * any crash stay its own. Its stdout goes to our stderr, so ours holds only the comparison.
 */
const spawnCli: CommandRunner = (argv, ctx) =>
  new Promise((resolve, reject) => {
    const bin = path.join(__dirname, '..', '..', '..', 'bin', 'anomaly-lab.js');
    const child = spawn(process.execPath, [bin, ...argv], {
      cwd: ctx.cwd,
      env: { ...process.env, ...ctx.env },
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

const { summary } = COMMANDS.reproduce;

const SPECS = defineOptions({
  manifest: { kind: 'string', required: true, help: 'manifest.json or the run directory holding it' },
  out: {
    kind: 'string',
    output: 'dir',
    help: 'directory of the re-run (default <run dir>.reproduced; must not exist; created by reproduce)',
  },
  rtol: { kind: 'number', default: 1e-6, help: 'relative tolerance per metric' },
  atol: { kind: 'number', default: 1e-9, help: 'absolute tolerance per metric' },
  backend: { kind: 'string', help: 'tfjs backend instead of the recorded one (results may then differ slightly)' },
  allow_changed_inputs: { kind: 'boolean', default: false, help: 'run even when input files no longer match their sha256' },
  json: { kind: 'boolean', default: false, help: 'print the comparison as JSON' },
});

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab reproduce --manifest <run dir|manifest.json> [--out <dir>]', summary);
  if (!options) return 0;
  // Loaded here, not at the top: `--help` prints the options without loading tfjs.
  const { reproduceRun } = await import('../../report/index.js');
  const rtol = options.rtol;
  const atol = options.atol;
  if (!(rtol >= 0) || !(atol >= 0)) throw new UsageError('options --rtol and --atol must be >= 0');
  // Ctrl-C in a terminal reaches the re-run too (same process group), which stops as its command
  // does and says so; reproduce waits for it and reports the run as interrupted. A second one: at once.
  const stop = stopOnSigint('anomaly-lab reproduce', { announce: false });
  const r = await reproduceRun(options.manifest, {
    runner: spawnCli,
    out: options.out,
    rtol,
    atol,
    backend: options.backend,
    allowChangedInputs: options.allow_changed_inputs,
    log: (line) => process.stderr.write(line + '\n'),
  })
    .catch((e: unknown) => {
      if (stop.stopped()) throw new InterruptedError(`the re-run was stopped (see its line above); metrics not compared`);
      throw e;
    })
    .finally(() => stop.dispose());
  if (options.json) {
    process.stdout.write(
      JSON.stringify(
        { reproduced: r.reproduced, out: r.outDir, argv: r.argv, differences: r.differences, input_drift: r.inputDrift },
        null,
        2,
      ) + '\n',
    );
  } else if (r.reproduced) {
    process.stdout.write(`reproduced: every metric of ${r.manifestFile} matches the re-run in ${r.outDir}\n`);
  } else {
    process.stdout.write(`NOT reproduced: ${r.differences.length} metric(s) differ (re-run in ${r.outDir}):\n`);
    for (const d of r.differences.slice(0, 50)) process.stdout.write(`  ${d.key}: recorded ${d.expected}, re-run ${d.actual}\n`);
  }
  return r.reproduced ? 0 : 1;
}
