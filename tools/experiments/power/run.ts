/**
 * Power-system pipeline on generated faults (issue 4 acceptance): trains the LSTM-autoencoder
 * detector on normal generated data and the random-forest classifier on labelled generated
 * faults (the library's `power.runPowerExperiment`), runs the whole pipeline on unseen recordings
 * and writes
 *   docs/power-experiment.md    (recall, accuracy, confusion matrix, importances, training curve)
 *   docs/power-experiment.json  (the same numbers, machine-readable)
 * (seed N ≠ 1 writes docs/power-experiment-seedN.{md,json})
 *
 *   npm run build:lib && tools/experiments/run.sh power [--seed 1] [--epochs 12] [--test_recordings 3]
 *
 * Runs ~5–10 min on two shared cores (wasm backend). The jest test test/power/experiment.test.ts
 * runs a smaller version of the same harness.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { defineOptions } from 'anomaly-lab/core';
import { runPowerExperiment } from 'anomaly-lab/power';
import { toolArgs } from '../../common/args';
import { powerExperimentMarkdown } from './render';

const POWER = {
  name: 'power',
  usage: 'tools/experiments/run.sh power [--seed 1] [--epochs 12] [--test_recordings 3]',
  summary:
    'The power pipeline trained here on generated faults, scored on unseen recordings; writes docs/power-experiment[-seedN].{md,json}.',
  specs: defineOptions({
    seed: { kind: 'int', default: 1, help: 'seed of the generated data and the models (≠ 1 writes docs/power-experiment-seed<N>.*)' },
    epochs: { kind: 'int', default: 12, min: 1, help: 'detector training epochs' },
    test_recordings: { kind: 'int', default: 3, min: 1, help: 'unseen recordings (10 faults each)' },
  }),
};

// tools/experiments/run.sh runs from the repository root.
const REPO = process.cwd();

async function main(): Promise<void> {
  const { seed, epochs, test_recordings: testRecordings } = toolArgs(POWER).options;
  const info = await initBackend({});
  const t0 = Date.now();
  const res = await runPowerExperiment({
    seed,
    normalDuration: 2,
    classifierRecordings: 20,
    testRecordings,
    detector: { epochs, maxWindows: 1000, learningRate: 5e-3 },
    log: (line) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${line}\n`),
  });
  const command = `tools/experiments/run.sh power --seed ${seed} --epochs ${epochs} --test_recordings ${testRecordings}`;
  const md = powerExperimentMarkdown(res, { command, backend: info.name });
  const { models, ...numbers } = res;
  fs.mkdirSync(path.join(REPO, 'docs'), { recursive: true });
  const base = seed === 1 ? 'docs/power-experiment' : `docs/power-experiment-seed${seed}`;
  fs.writeFileSync(path.join(REPO, `${base}.md`), md);
  fs.writeFileSync(
    path.join(REPO, `${base}.json`),
    JSON.stringify({ command, backend: info.name, date: new Date().toISOString(), ...numbers }, null, 2) + '\n',
  );
  models.detector.dispose();
  process.stderr.write(`recall ${res.recall}, accuracy ${res.accuracy}, false alarms ${res.falseAlarms} → ${base}.md\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`power-experiment: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
