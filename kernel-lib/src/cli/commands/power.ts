/**
 * `anomaly-lab power <detect|train|synth|inspect>`: the power-system fault dashboard from the
 * command line. Each subcommand is its own module (`power-<sub>.ts`), listed in the registry.
 *
 *   anomaly-lab power detect --data simData2.csv --detector lstm.h5 --scaler scaler.save \
 *       [--classifier fault_classifier.joblib --classifier_scaler classifier_scaler.joblib \
 *        --class_names class_names.joblib] [--classifier_transformer classifier_transformer/] \
 *       --sequence_length 50 --percentile 95 --max_gap_samples 1500 --out out/
 *   anomaly-lab power synth --out data.csv [--n_faults 10 --seed 1 ...]
 *   anomaly-lab power train --out models/ [--data normal.csv | generated data] ...
 */
import { UsageError } from '../args';
import { COMMANDS, POWER_COMMANDS } from '../registry';

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    const lines = ['Usage: anomaly-lab power <subcommand> [options]', '', COMMANDS.power.summary, '', 'Subcommands:'];
    for (const [name, s] of Object.entries(POWER_COMMANDS)) lines.push(`  ${name.padEnd(8)} ${s.summary}`);
    lines.push('', 'Run `anomaly-lab power <subcommand> --help` for its options.');
    process.stdout.write(lines.join('\n') + '\n');
    return sub ? 0 : 2;
  }
  const entry = Object.entries(POWER_COMMANDS).find(([name]) => name === sub)?.[1];
  if (!entry) throw new UsageError(`unknown subcommand 'power ${sub}' (choose one of ${Object.keys(POWER_COMMANDS).join(', ')})`);
  const command = await entry.load();
  return command.run(rest);
}
