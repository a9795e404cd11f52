/**
 * `anomaly-lab report --run <dir> [--out <dir>] [--labels <npy>]`: a self-contained offline HTML
 * report (plotly embedded once, no network) and a markdown version of one run directory.
 */
import { defineOptions } from '../../browser/index';
import { UsageError, parseCommandArgs, withSigint } from '../args';
import { COMMANDS } from '../registry';

const { summary } = COMMANDS.report;

const SPECS = defineOptions({
  run: { kind: 'string', required: true, help: 'run directory (manifest.json, history.json, state/, *.anomaly.json)' },
  out: { kind: 'string', output: 'dir', help: 'output directory (default <run>/report)' },
  labels: { kind: 'string', help: 'test labels .npy for the step scores (default: from the run config/manifest)' },
  title: { kind: 'string', help: 'report title' },
  anomaly_rate: { kind: 'number', default: 0.05, help: 'anomaly rate of the per-step ESS score table' },
  target: { kind: 'number', default: 0.9, help: 'ESS score (with PA) target of the "first step reaching" line' },
  max_points: { kind: 'int', default: 4000, help: 'max points per drawn trace (min/max downsampling)' },
});

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab report --run <dir> [--out <dir>] [--labels <npy>]', summary);
  if (!options) return 0;
  // Loaded here, not at the top: `--help` prints the options without loading tfjs.
  const { writeRunReport } = await import('../../report/index.js');
  const rate = options.anomaly_rate;
  if (!(rate > 0 && rate < 1)) throw new UsageError(`option --anomaly_rate must be in (0, 1), got ${rate}`);
  const maxPoints = options.max_points;
  if (!(maxPoints >= 10)) throw new UsageError(`option --max_points must be at least 10, got ${maxPoints}`);
  // Ctrl-C: acted on before anything is written (building the report is synchronous).
  const files = await withSigint(
    'report',
    (stop) =>
      writeRunReport(options.run, {
        out: options.out,
        labels: options.labels,
        title: options.title,
        anomalyRate: rate,
        target: options.target,
        maxPoints,
        signal: stop.signal,
      }),
    () => `nothing written (report.html, report.md and their assets keep their previous versions, if any)`,
  );
  process.stdout.write(`report: ${files.html}\nmarkdown: ${files.markdown}\n`);
  return 0;
}
