// %% [markdown]
// # 3 · Power-system fault dashboard
//
// The dashboard seed's four steps on three-phase `Time,Va,Vb,Vc,Ia,Ib,Ic` data:
// 1. **Data import** — a CSV/parquet recording (generated here by default);
// 2. **Model import** — the seed's pre-trained Python models (Keras `.h5` LSTM autoencoder,
//    scikit-learn `.joblib` scalers and random forest), and models trained here in TypeScript;
// 3. **Analysis and results** — reconstruction error per window, percentile threshold, merged
//    intervals, 46 features per interval and a fault class (LG, LL, LLG, LLL, LLLG) with confidence;
// 4. **Visualisation and exports** — the anomaly viewer, fault distribution, feature importance,
//    CSV, markdown and an offline HTML report.
//
// The seed's models are read from `../shared/data/power-system/seed-models` when that folder exists
// (or `$ANOMALY_LAB_DATA/power-system/...`); with `ANOMALY_LAB_DATA` set they run on the seed's own
// `simData2.csv`.

// %%
import * as fs from 'fs';
import * as path from 'path';
import * as al from 'anomaly-lab';

const DATA_DIR = process.env.ANOMALY_LAB_DATA ?? '';
const RUNS_DIR = path.resolve(process.env.ANOMALY_LAB_RUNS ?? 'runs');
const OUT_DIR = path.join(RUNS_DIR, '03-power');
const SEED = 3;
const SEED_MODELS = [DATA_DIR && path.join(DATA_DIR, 'power-system/seed-models'), path.resolve('../../shared/data/power-system/seed-models')].find(
  (p) => p && fs.existsSync(path.join(p, 'detector/lstm_autoencoder_anomaly_detection.h5')),
);
const backendP = await al.initBackend({ log: false });
fs.rmSync(OUT_DIR, { recursive: true, force: true });
fs.mkdirSync(OUT_DIR, { recursive: true });
console.log(`backend ${backendP.name}; seed models: ${SEED_MODELS ?? 'not available (only models trained here are used)'}`);

// %% [markdown]
// ## 1 · Data import

// %%
/** PowerData (one Float64Array per signal) as a row-major series for tables and the viewer. */
function powerSeries(d: al.PowerData): { columns: string[]; length: number; values: Float32Array } {
  const C = d.signals.length;
  const vals = new Float32Array(d.length * C);
  for (let i = 0; i < d.length; i++) for (let j = 0; j < C; j++) vals[i * C + j] = d.signals[j][i];
  return { columns: [...al.power.POWER_SIGNALS], length: d.length, values: vals };
}

const generated = al.power.generatePowerData({ seed: SEED, duration: 2, sampleRate: 5000, nFaults: 5 });
const recording: al.PowerData = generated.data;
al.showFrame(al.notebook.describeSeries(powerSeries(recording)), { title: `${recording.source}: ${recording.length} samples, sample time ${recording.sampleTime} s` });
al.showTable(
  ['#', 'injected fault', 'start (s)', 'end (s)', 'phases'],
  generated.faults.map((f, i) => [i + 1, f.type, f.start, f.end, f.phases.map((p) => 'abc'[p]).join('')]),
  { title: 'Ground truth of the generated recording' },
);
let seedRecording: al.PowerData | undefined;
if (DATA_DIR) seedRecording = await al.loadPowerData(path.join(DATA_DIR, 'power-system/simData2.csv'));
else if (SEED_MODELS) seedRecording = await al.loadPowerData(path.resolve(SEED_MODELS, '../simData2.csv'));
if (seedRecording) console.log(`seed recording: ${seedRecording.source}, ${seedRecording.length} samples at ${Math.round(1 / seedRecording.sampleTime)} Hz`);

// %% [markdown]
// ## 2 · Model import
// ### The seed's Python models
// The Keras 3 HDF5 file is rebuilt as a tfjs LayersModel (bidirectional LSTMs, RepeatVector,
// TimeDistributed Dense); the scikit-learn pickles are read by a safe unpickler that never executes
// code.

// %%
type PowerModels = Parameters<typeof al.analyzePowerData>[1];
let seedModels: PowerModels | undefined;
if (SEED_MODELS) {
  const keras = await al.power.loadKerasH5(path.join(SEED_MODELS, 'detector/lstm_autoencoder_anomaly_detection.h5'));
  const seedScaler = await al.power.loadPowerScaler(path.join(SEED_MODELS, 'detector/scaler.save'));
  const forest = await al.power.loadPowerClassifier(path.join(SEED_MODELS, 'classifier/fault_classifier.joblib'));
  const featureScaler = await al.power.loadPowerScaler(path.join(SEED_MODELS, 'classifier/classifier_scaler.joblib'), 'classifier scaler');
  seedModels = { detector: keras.model, scaler: seedScaler, classifier: forest, classifierScaler: featureScaler };
  al.showTable(
    ['model', 'what was read'],
    [
      ['detector', `${path.basename(keras.source)}: input ${JSON.stringify(keras.inputShape)}, output ${JSON.stringify(keras.outputShape)}, ${keras.model.countParams()} parameters`],
      ['detector scaler', `StandardScaler of ${seedScaler.mean.length} signals`],
      ['classifier', `${forest.classes.length} classes (${forest.classes.join(', ')}), ${forest.nFeatures} features`],
      ['classifier scaler', `StandardScaler of ${featureScaler.mean.length} features`],
    ],
    { title: 'Seed models (Python → TypeScript)' },
  );
} else {
  console.log('seed models not found: skipping the Python-model import (set ANOMALY_LAB_DATA to ../shared/data)');
}

// %% [markdown]
// ### Models trained here
// A workshop-size LSTM autoencoder learns normal three-phase operation from generated fault-free
// recordings; a random forest learns fault classes from the 46 features of generated faults. The
// experiment then scores the pair on an unseen recording against the known faults.

// %%
const epochsBar = new al.ProgressBar(6, { label: 'detector epochs' });
const experiment = await al.power.runPowerExperiment({
  seed: SEED,
  synth: { sampleRate: 5000 },
  normalDuration: 2,
  detector: { ...al.power.WORKSHOP_AUTOENCODER, epochs: 6, maxWindows: 800, onEpoch: (e) => epochsBar.set(e.epoch + 1, `loss ${e.loss.toFixed(4)}, val ${e.val_loss.toFixed(4)}`) },
  classifierRecordings: 6,
  faultsPerRecording: 5,
  testRecordings: 1,
  testDuration: 2,
  trainDuration: 2,
  nEstimators: 40,
});
epochsBar.finish();
const trainedModels: PowerModels = experiment.models;
al.showTable(
  ['measure', 'value'],
  [
    ['detector epochs (best)', `${experiment.detector.history.length} (${experiment.detector.bestEpoch})`],
    ['MSE threshold', experiment.threshold],
    ['classifier training rows', experiment.classifierTrainRows],
    ['interval recall on the unseen recording', experiment.recall],
    ['fault-type accuracy', experiment.accuracy],
    ['false alarms', experiment.falseAlarms],
  ],
  { title: 'Models trained here, judged on an unseen generated recording' },
);

// %% [markdown]
// ## 3 · Analysis and results
// The seed's pipeline: window MSE → percentile threshold (95) → intervals merged when closer than
// `max_gap_samples` → features → fault class. The trained detector uses the fixed threshold it
// learned instead: a percentile flags a fixed share of windows whether or not there is a fault.

// %%
const MAX_GAP = 250; // samples (50 ms at 5 kHz)
const analysis = await al.analyzePowerData(recording, trainedModels, { threshold: experiment.threshold, maxGapSamples: MAX_GAP });
al.showTable(
  ['#', 'start (s)', 'end (s)', 'predicted fault', 'confidence'],
  analysis.predictions.map((p, i) => [i + 1, p.start_time, p.end_time, p.predicted_fault, p.confidence]),
  { title: `Trained models on the generated recording: ${analysis.detection.flags.reduce((a, b) => a + b, 0)} anomalous windows, ${analysis.mergedIntervals.length} merged intervals` },
);

let seedAnalysis: al.PowerAnalysis | undefined;
if (seedModels && seedRecording) {
  const bar = new al.ProgressBar(0, { label: 'seed detector windows' });
  seedAnalysis = await al.analyzePowerData(seedRecording, seedModels, { percentile: 95, maxGapSamples: 1500, onProgress: (d, t) => bar.update(d, t) });
  bar.finish();
  al.showTable(
    ['#', 'start (s)', 'end (s)', 'predicted fault', 'confidence'],
    seedAnalysis.predictions.map((p, i) => [i + 1, p.start_time, p.end_time, p.predicted_fault, p.confidence]),
    { title: `Seed models on ${path.basename(seedRecording.source)}: threshold ${seedAnalysis.detection.threshold.toPrecision(4)} (95th percentile)` },
  );
}

// %% [markdown]
// ## 4 · Visualisation and exports
// Signals with the anomalies highlighted, reconstruction error with the threshold, feature
// importance, fault distribution and the timeline: the anomaly viewer in JupyterLab, the static
// summary elsewhere.

// %%
function powerBundle(a: al.PowerAnalysis, d: al.PowerData, title: string, importance?: { names: string[]; values: number[] }): al.ViewerBundle {
  const s = powerSeries(d);
  // The viewer thresholds by percentile; for a fixed MSE threshold, give the percentile that flags
  // the same windows (share of windows at or below it).
  let flagged = 0;
  for (let i = 0; i < a.detection.flags.length; i++) flagged += a.detection.flags[i];
  const percentile = 100 * (1 - flagged / a.detection.mse.length);
  return al.powerViewerBundle({
    title,
    time: d.time,
    columns: s.columns,
    values: s.values,
    mse: a.detection.mse,
    sequenceLength: a.detection.sequenceLength,
    percentile: percentile,
    maxGapSamples: a.params.max_gap_samples,
    threshold: a.detection.threshold,
    intervals: a.predictions.map((p) => ({ start: p.start_time, end: p.end_time, fault: p.predicted_fault, confidence: p.confidence, probabilities: Object.fromEntries((a.classes ?? []).map((c, k) => [c, p.proba[k]])) })),
    classes: a.classes,
    featureImportances: importance,
    provenance: { source: d.source },
  });
}
const importance = { names: experiment.featureImportance.map((f) => f.feature), values: experiment.featureImportance.map((f) => f.permutation) };
const trainedView = powerBundle(analysis, recording, 'Generated recording — models trained here', importance);
al.showViewer(trainedView);
fs.writeFileSync(path.join(OUT_DIR, `trained${al.VIEWER_FILE_SUFFIX}`), al.viewerBundleToJSON(trainedView));

// %%
if (seedAnalysis && seedRecording && seedModels?.classifier) {
  const fi = (seedModels.classifier as al.pickle.ForestClassifierModel).featureImportances;
  const names = (seedModels.classifierScaler as al.pickle.StandardScalerModel | undefined)?.featureNames ?? [...al.power.POWER_FEATURE_NAMES];
  const seedView = powerBundle(seedAnalysis, seedRecording, 'simData2.csv — seed models', fi ? { names, values: Array.from(fi) } : undefined);
  al.showViewer(seedView);
  fs.writeFileSync(path.join(OUT_DIR, `seed${al.VIEWER_FILE_SUFFIX}`), al.viewerBundleToJSON(seedView));
}

// %% [markdown]
// ### Fault distribution and exports
// `writePowerResults` writes the seed's exports (results JSON, anomalies CSV, markdown report);
// the manifest pins inputs, parameters and metrics; the HTML report bundles the charts offline.

// %%
const distribution = al.power.faultDistribution(analysis);
al.showTable(['fault', 'intervals'], distribution.map((f) => [f.fault, f.count]), { title: 'Fault distribution (trained models, generated recording)' });
const exported = al.power.writePowerResults(OUT_DIR, analysis, recording, { detector: 'trained here (LSTM autoencoder)', classifier: 'trained here (random forest)' });
await al.runs.writeManifest(OUT_DIR, {
  kind: 'power-detect',
  config: { ...analysis.params, threshold: analysis.detection.threshold, data: recording.source, seed: SEED },
  seed: SEED,
  metrics: { recall: experiment.recall, accuracy: experiment.accuracy, false_alarms: experiment.falseAlarms, intervals: analysis.mergedIntervals.length },
  outputs: exported.map((f) => path.relative(OUT_DIR, f)),
});
const reportP = await al.writeRunReport(OUT_DIR, { title: 'Power-system fault dashboard' });
al.showTable(['export', 'file'], [...exported, reportP.html, reportP.markdown].map((f) => [path.extname(f).slice(1), path.relative(process.cwd(), f)]), { title: 'Exports' });
