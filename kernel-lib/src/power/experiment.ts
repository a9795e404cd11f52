/**
 * End-to-end experiment on generated data: train the detector on normal recordings, train the
 * fault classifier on labelled fault intervals, then run the full pipeline on unseen recordings
 * with injected faults and score it against the known intervals:
 *  - interval recall: share of injected faults overlapped by a detected (merged) interval;
 *  - classification accuracy: share of injected faults whose best-overlapping detected interval
 *    carries the right fault type; plus the confusion matrix (rows true, columns predicted);
 *  - false alarms: detected intervals that overlap no injected fault.
 * Classifier training intervals mimic what detection produces: the true fault interval widened
 * on each side by U(0, 1)·(L − 1) samples (a flagged window reaches up to L − 1 samples past
 * the fault).
 *
 * Library API (the `power` namespace) because notebook 03 trains its models with it and reads the
 * scores; the experiment that writes docs/power-experiment.md (command line, markdown) is a tool:
 * tools/experiments/power/.
 */
import { tf } from '../backend';
import { formatFixed } from '../browser/format';
import type { StandardScalerModel, ForestClassifierModel } from '../pickle/sklearn';
import { featureMatrix, POWER_FEATURE_NAMES, type FeatureRow } from './features';
import { permutationImportance } from './forest';
import { trainFaultClassifier } from './train-classifier';
import { analyzePowerData, type PowerAnalysis } from './pipeline';
import { FAULT_TYPES, generatePowerData, generateNormalPowerData, type InjectedFault, type PowerSynthOptions } from './synth';
import { trainDetector, type TrainDetectorOptions, type TrainedDetector } from './train-detector';

export interface PowerExperimentOptions {
  seed?: number;
  synth?: Omit<PowerSynthOptions, 'seed' | 'faults' | 'nFaults'>;
  /** Seconds of normal data for the detector (default 4). */
  normalDuration?: number;
  detector?: Partial<TrainDetectorOptions>;
  /** Recordings used to train the classifier and faults in each (default 20 × 10). */
  classifierRecordings?: number;
  faultsPerRecording?: number;
  /** Test recordings (default 3 × 10 faults). */
  testRecordings?: number;
  testDuration?: number;
  trainDuration?: number;
  nEstimators?: number;
  /** Merge gap in samples (default: 50 ms worth). */
  maxGapSamples?: number;
  /** @deprecated the earlier name of `maxGapSamples` (still read). */
  maxGap?: number;
  /** Threshold = factor × max validation MSE of the detector (default 2). */
  thresholdFactor?: number;
  log?: (line: string) => void;
}

export interface FaultMatch {
  recording: number;
  fault: InjectedFault;
  detected: boolean;
  predicted?: string;
  confidence?: number;
  interval?: [number, number];
}

export interface PowerExperimentResult {
  detector: Pick<TrainedDetector, 'history' | 'bestEpoch' | 'stoppedEarly' | 'validationMse' | 'config'>;
  threshold: number;
  classifierTrainRows: number;
  classifierTrainAccuracy: number;
  matches: FaultMatch[];
  recall: number;
  accuracy: number;
  falseAlarms: number;
  confusion: { labels: string[]; matrix: number[][] };
  featureImportance: Array<{ feature: string; impurity: number; permutation: number }>;
  timings: Record<string, number>;
  models: {
    detector: tf.LayersModel;
    scaler: StandardScalerModel;
    classifier: ForestClassifierModel;
    classifierScaler: StandardScalerModel;
  };
}

function overlap(a: [number, number], b: [number, number]): number {
  return Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
}

/** Score detections against injected faults. */
export function matchFaults(
  recording: number,
  faults: InjectedFault[],
  analysis: PowerAnalysis,
): { matches: FaultMatch[]; falseAlarms: number } {
  const matches = faults.map((fault) => {
    let best = -1;
    let bestOv = 0;
    analysis.mergedIntervals.forEach((iv, j) => {
      const ov = overlap(iv, [fault.start, fault.end]);
      if (ov > bestOv) {
        bestOv = ov;
        best = j;
      }
    });
    if (best < 0) return { recording, fault, detected: false };
    const p = analysis.predictions[best];
    return {
      recording,
      fault,
      detected: true,
      predicted: p?.predicted_fault,
      confidence: p?.confidence,
      interval: analysis.mergedIntervals[best],
    };
  });
  const falseAlarms = analysis.mergedIntervals.filter((iv) => !faults.some((f) => overlap(iv, [f.start, f.end]) > 0)).length;
  return { matches, falseAlarms };
}

export async function runPowerExperiment(opts: PowerExperimentOptions = {}): Promise<PowerExperimentResult> {
  const seed = opts.seed ?? 1;
  const log = opts.log ?? (() => undefined);
  const synth = { sampleRate: 5000, ...opts.synth };
  const timings: Record<string, number> = {};
  let t = Date.now();
  const lap = (name: string): void => {
    timings[name] = (Date.now() - t) / 1000;
    t = Date.now();
  };
  const L = opts.detector?.sequenceLength ?? 50;

  // 1. Detector on normal data.
  const normal = generateNormalPowerData({ ...synth, seed: seed * 1000, duration: opts.normalDuration ?? 4 });
  const trained = await trainDetector(normal, {
    sequenceLength: L,
    units: [16, 8],
    bidirectional: false,
    epochs: 15,
    patience: 3,
    stride: 4,
    maxWindows: 3000,
    seed,
    ...opts.detector,
    onEpoch: (e) =>
      log(
        `detector epoch ${e.epoch}: loss ${e.loss.toExponential(3)} val ${e.val_loss.toExponential(3)} (${formatFixed(e.elapsed_s, 0)} s)`,
      ),
  });
  lap('train_detector_s');
  const threshold = (opts.thresholdFactor ?? 2) * trained.validationMse.max;
  log(
    `detector: best epoch ${trained.bestEpoch}, validation MSE max ${trained.validationMse.max.toExponential(3)} → threshold ${threshold.toExponential(3)}`,
  );

  // 2. Classifier on labelled intervals from separate recordings.
  const nRec = opts.classifierRecordings ?? 20;
  const perRec = opts.faultsPerRecording ?? 10;
  const duration = opts.trainDuration ?? perRec * 0.4;
  const recordings = Array.from({ length: nRec }, (_, r) =>
    generatePowerData({ ...synth, seed: seed * 1000 + 100 + r, duration, nFaults: perRec }),
  );
  const {
    classifier,
    classifierScaler,
    rows,
    trainAccuracy: trainAcc,
  } = trainFaultClassifier(recordings, { sequenceLength: L, nEstimators: opts.nEstimators ?? 100, seed });
  const imp = classifier.featureImportances;
  lap('train_classifier_s');
  log(`classifier: ${rows.length} intervals, training accuracy ${formatFixed(trainAcc, 3)}`);

  // 3. Unseen test recordings through the whole pipeline.
  const nTest = opts.testRecordings ?? 3;
  const matches: FaultMatch[] = [];
  let falseAlarms = 0;
  // Features of detected intervals matched to a fault, with the true type: held-out data for
  // permutation importance (on the training rows a grown forest barely notices one shuffled column).
  const heldOut: FeatureRow[] = [];
  const heldOutLabels: string[] = [];
  for (let r = 0; r < nTest; r++) {
    const rec = generatePowerData({ ...synth, seed: seed * 1000 + 500 + r, duration: opts.testDuration ?? perRec * 0.4, nFaults: perRec });
    const maxGapSamples = opts.maxGapSamples ?? opts.maxGap ?? Math.round(0.05 / rec.data.sampleTime);
    const analysis = await analyzePowerData(
      rec.data,
      { detector: trained.model, scaler: trained.scaler, classifier, classifierScaler },
      { sequenceLength: L, maxGapSamples, threshold },
    );
    const m = matchFaults(r, rec.faults, analysis);
    matches.push(...m.matches);
    for (const x of m.matches) {
      if (!x.interval) continue;
      heldOut.push(analysis.features[analysis.mergedIntervals.indexOf(x.interval)]);
      heldOutLabels.push(x.fault.type);
    }
    falseAlarms += m.falseAlarms;
    log(
      `test recording ${r}: ${analysis.mergedIntervals.length} intervals, ${m.matches.filter((x) => x.detected).length}/${rec.faults.length} faults found, ${m.falseAlarms} false alarms`,
    );
  }
  lap('test_s');
  const Xh = classifierScaler.transform(featureMatrix(heldOut, POWER_FEATURE_NAMES), POWER_FEATURE_NAMES.length);
  const perm =
    heldOut.length > 1
      ? permutationImportance(
          classifier,
          Xh.map((v) => (Number.isFinite(v) ? v : 0)),
          heldOut.length,
          heldOutLabels,
          { nRepeats: 5, seed },
        ).mean
      : new Float64Array(POWER_FEATURE_NAMES.length);
  const detected = matches.filter((m) => m.detected).length;
  const correct = matches.filter((m) => m.predicted === m.fault.type).length;
  const cls = [...FAULT_TYPES] as string[];
  const predLabels = [...cls, 'missed'];
  const matrix = cls.map((tr) =>
    predLabels.map((pr) => matches.filter((m) => m.fault.type === tr && (m.predicted ?? 'missed') === pr).length),
  );
  return {
    detector: {
      history: trained.history,
      bestEpoch: trained.bestEpoch,
      stoppedEarly: trained.stoppedEarly,
      validationMse: trained.validationMse,
      config: trained.config,
    },
    threshold,
    classifierTrainRows: rows.length,
    classifierTrainAccuracy: trainAcc,
    matches,
    recall: detected / matches.length,
    accuracy: correct / matches.length,
    falseAlarms,
    confusion: { labels: predLabels, matrix },
    featureImportance: POWER_FEATURE_NAMES.map((feature, j) => ({ feature, impurity: imp[j], permutation: perm[j] })).sort(
      (a, b) => b.impurity - a.impurity,
    ),
    timings,
    models: { detector: trained.model, scaler: trained.scaler, classifier, classifierScaler },
  };
}
