#!/usr/bin/env node
/**
 * Power-system pipeline on generated faults (issue 4 acceptance): trains the LSTM-autoencoder
 * detector on normal generated data and the random-forest classifier on labelled generated
 * faults, runs the whole pipeline on unseen recordings and writes
 *   docs/power-experiment.md    (recall, accuracy, confusion matrix, importances, training curve)
 *   docs/power-experiment.json  (the same numbers, machine-readable)
 * (seed N ≠ 1 writes docs/power-experiment-seedN.{md,json})
 *
 *   npm run build:lib && node scripts/power-experiment.js [--seed 1] [--epochs 8] [--test_recordings 3]
 *
 * Runs ~5–10 min on two shared cores (wasm backend). The jest test test/power/experiment.test.ts
 * runs a smaller version of the same harness.
 */
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { initBackend } = require(path.join(root, 'kernel-lib/dist/backend.js'));
const { runPowerExperiment, powerExperimentMarkdown } = require(path.join(root, 'kernel-lib/dist/power/experiment.js'));

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

(async () => {
  const info = await initBackend({});
  const seed = arg('seed', 1);
  const epochs = arg('epochs', 12);
  const testRecordings = arg('test_recordings', 3);
  const t0 = Date.now();
  const res = await runPowerExperiment({
    seed,
    normalDuration: 2,
    classifierRecordings: 20,
    testRecordings,
    detector: { epochs, maxWindows: 1000, learningRate: 5e-3 },
    log: (line) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${line}\n`),
  });
  const command = `node scripts/power-experiment.js --seed ${seed} --epochs ${epochs} --test_recordings ${testRecordings}`;
  const md = powerExperimentMarkdown(res, { command, backend: info.name });
  const { models, ...numbers } = res;
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  const base = seed === 1 ? 'docs/power-experiment' : `docs/power-experiment-seed${seed}`;
  fs.writeFileSync(path.join(root, `${base}.md`), md);
  fs.writeFileSync(
    path.join(root, `${base}.json`),
    JSON.stringify({ command, backend: info.name, date: new Date().toISOString(), ...numbers }, null, 2) + '\n',
  );
  models.detector.dispose();
  process.stderr.write(`recall ${res.recall}, accuracy ${res.accuracy}, false alarms ${res.falseAlarms} → ${base}.md\n`);
})().catch((e) => {
  process.stderr.write(`power-experiment: ${e.stack || e.message}\n`);
  process.exitCode = 1;
});
