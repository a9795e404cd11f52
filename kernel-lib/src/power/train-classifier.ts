/**
 * Training the fault classifier on labelled fault intervals: features of each interval (the 46
 * seed features), a StandardScaler fitted on them (with feature names, as the seed's
 * classifier_scaler.joblib) and a random forest on the standardised rows.
 */
import { createRng } from '../browser/random';
import { StandardScalerModel, type ForestClassifierModel } from '../pickle/sklearn';
import type { PowerData } from './data';
import { extractFeatures, featureMatrix, POWER_FEATURE_NAMES, type FeatureRow } from './features';
import { classifierAccuracy, trainRandomForest, type ForestOptions } from './forest';

export interface LabelledRecording {
  data: PowerData;
  faults: Array<{ type: string; start: number; end: number }>;
}

export interface TrainClassifierOptions extends Omit<ForestOptions, 'featureNames'> {
  /**
   * Widen each labelled interval on both sides by U(0, 1)·(L − 1) samples, as detection does
   * (a flagged window reaches up to L − 1 samples beyond the fault). 0 disables. Default 50.
   */
  sequenceLength?: number;
}

export interface TrainedClassifier {
  classifier: ForestClassifierModel;
  classifierScaler: StandardScalerModel;
  rows: FeatureRow[];
  labels: string[];
  trainAccuracy: number;
}

export function trainFaultClassifier(recordings: LabelledRecording[], opts: TrainClassifierOptions = {}): TrainedClassifier {
  const L = opts.sequenceLength ?? 50;
  const rng = createRng((opts.seed ?? 0) * 7919 + 1);
  const rows: FeatureRow[] = [];
  const labels: string[] = [];
  for (const rec of recordings) {
    const dt = rec.data.sampleTime;
    const tEnd = rec.data.time[rec.data.length - 1];
    rec.faults.forEach((f, i) => {
      if (!(f.end > f.start)) throw new Error(`${rec.data.source}: fault ${i} has end ${f.end} ≤ start ${f.start}`);
      const widen = (): number => (L > 1 ? rng.uniform() * (L - 1) * dt : 0);
      const iv: [number, number] = [Math.max(rec.data.time[0], f.start - widen()), Math.min(tEnd, f.end + widen())];
      rows.push(extractFeatures(rec.data, iv));
      labels.push(String(f.type));
    });
  }
  if (rows.length < 2) throw new Error(`classifier training: ${rows.length} labelled intervals; at least 2 are needed`);
  if (new Set(labels).size < 2)
    throw new Error(`classifier training: all intervals have the label '${labels[0]}'; at least two fault types are needed`);
  const F = POWER_FEATURE_NAMES.length;
  const X = featureMatrix(rows, POWER_FEATURE_NAMES);
  const bad = X.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new Error(
      `classifier training: interval ${Math.floor(bad / F)} has a non-finite feature '${POWER_FEATURE_NAMES[bad % F]}' (constant signal?)`,
    );
  const classifierScaler = StandardScalerModel.fit(X, F, [...POWER_FEATURE_NAMES]);
  const Xs = classifierScaler.transform(X, F);
  const classifier = trainRandomForest(Xs, rows.length, labels, { ...opts, featureNames: [...POWER_FEATURE_NAMES] });
  return { classifier, classifierScaler, rows, labels, trainAccuracy: classifierAccuracy(classifier, Xs, rows.length, labels) };
}
