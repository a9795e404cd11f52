import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync, zlibSync } from 'fflate';
import {
  ForestClassifierModel,
  LabelEncoderModel,
  NumpyArray,
  PyObject,
  StandardScalerModel,
  loadJoblib,
  loadSklearn,
  mapSklearn,
  parseJoblib,
} from 'anomaly-lab/pickle';
import { describeShared, sharedPath } from '../helpers/shared';

const seed = (...p: string[]): string => sharedPath('data', 'power-system', 'seed-models', ...p);
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function tmpFile(name: string, data: Uint8Array | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sklearn-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}

interface Expected {
  features: Array<Record<string, number>>;
  feature_order: string[];
  rf_classes: string[];
  class_names: string[];
  predictions: Array<{ predicted_fault: string; confidence: number; proba: number[] }>;
}

describeShared('seed joblib files (numpy 2, scikit-learn 1.6)', () => {
  const expected: Expected = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'power-system', 'expected_default.json'), 'utf8'));
  const files = [
    'detector/scaler.save',
    'classifier/class_names.joblib',
    'classifier/classifier_scaler.joblib',
    'classifier/fault_classifier.joblib',
    'classifier_transformer/complete_dl_fault_system.joblib',
    'classifier_transformer/feature_scaler.joblib',
    'classifier_transformer/label_encoder.joblib',
    'classifier_transformer/model_metadata.joblib',
    'classifier_transformer/sequence_scaler.joblib',
  ];

  it.each(files)('%s loads through the allowlist', async (f) => {
    const v = await loadJoblib(seed(f));
    expect(v).not.toBeNull();
    expect(typeof v).toBe('object');
  });

  it('maps the detector scaler to a StandardScalerModel', async () => {
    const sc = await loadSklearn(seed('detector', 'scaler.save'));
    expect(sc).toBeInstanceOf(StandardScalerModel);
    const s = sc as StandardScalerModel;
    expect(s.nFeatures).toBe(6);
    const raw = (await loadJoblib(seed('detector', 'scaler.save'))) as PyObject;
    expect(Array.from(s.mean)).toEqual(Array.from((raw.mean_ as NumpyArray).data as Float64Array));
    // transform then inverse is the identity (to rounding)
    const row = Float64Array.from(s.mean, (m, i) => m + 2 * s.scale[i]);
    const z = s.transform(row, 6);
    z.forEach((v) => expect(v).toBeCloseTo(2, 12));
    s.inverseTransform(z, 6).forEach((v, i) => expect(v).toBeCloseTo(row[i], 9));
    expect(() => s.transform(new Float64Array(5), 5)).toThrow('StandardScaler.transform: input has 5 columns, the model expects 6');
  });

  it('reads feature_names_in_ of the classifier scaler in the fixture order', async () => {
    const sc = (await loadSklearn(seed('classifier', 'classifier_scaler.joblib'))) as StandardScalerModel;
    expect(sc.featureNames).toEqual(expected.feature_order);
  });

  it('reproduces the fixture probabilities, labels and confidences to 1e-9', async () => {
    const sc = (await loadSklearn(seed('classifier', 'classifier_scaler.joblib'))) as StandardScalerModel;
    const rf = (await loadSklearn(seed('classifier', 'fault_classifier.joblib'))) as ForestClassifierModel;
    expect(rf).toBeInstanceOf(ForestClassifierModel);
    expect(rf.classes).toEqual(expected.rf_classes);
    expect(rf.trees.length).toBe(100);
    const n = expected.features.length;
    const X = sc.transform(sc.rowsFromRecords(expected.features), sc.nFeatures);
    const proba = rf.predictProba(X, n);
    const labels = rf.predict(X, n);
    const k = rf.classes.length;
    expected.predictions.forEach((p, r) => {
      p.proba.forEach((v, c) => expect(Math.abs(proba[r * k + c] - v)).toBeLessThanOrEqual(1e-9));
      expect(labels[r]).toBe(p.predicted_fault);
      expect(Math.abs(Math.max(...proba.subarray(r * k, (r + 1) * k)) - p.confidence)).toBeLessThanOrEqual(1e-9);
    });
  });

  it('a forest equals the mean of its trees loaded as DecisionTreeClassifiers (forest of one)', async () => {
    const raw = (await loadJoblib(seed('classifier', 'fault_classifier.joblib'))) as PyObject;
    const rf = mapSklearn(raw, 'rf') as ForestClassifierModel;
    const trees = (raw.estimators_ as PyObject[]).map((t, i) => mapSklearn(t, `tree ${i}`) as ForestClassifierModel);
    expect(trees[0].kind).toBe('DecisionTreeClassifier');
    expect(trees[0].trees.length).toBe(1);
    const nRows = 4;
    const X = Float64Array.from({ length: nRows * rf.nFeatures }, (_, i) => Math.sin(i * 1.7) * 2);
    const mean = new Float64Array(nRows * rf.classes.length);
    for (const t of trees)
      t.predictProba(X, nRows).forEach((v, i) => {
        mean[i] += v;
      });
    const p = rf.predictProba(X, nRows);
    mean.forEach((v, i) => expect(p[i]).toBeCloseTo(v / trees.length, 12));
  });

  it('computes feature importances that sum to 1 and are zero for never-split features', async () => {
    const rf = (await loadSklearn(seed('classifier', 'fault_classifier.joblib'))) as ForestClassifierModel;
    const imp = rf.featureImportances;
    expect(imp.length).toBe(46);
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const used = new Set<number>();
    for (const t of rf.trees)
      t.feature.forEach((f, n) => {
        if (t.childrenLeft[n] !== -1) used.add(f);
      });
    imp.forEach((v, f) => (used.has(f) ? expect(v).toBeGreaterThanOrEqual(0) : expect(v).toBe(0)));
    expect(used.size).toBeGreaterThan(1);
  });

  it('round-trips forest, scaler and label encoder through our JSON formats', async () => {
    const rf = (await loadSklearn(seed('classifier', 'fault_classifier.joblib'))) as ForestClassifierModel;
    const sc = (await loadSklearn(seed('classifier', 'classifier_scaler.joblib'))) as StandardScalerModel;
    const rfFile = tmpFile('forest.json', JSON.stringify(rf.toJSON()));
    const scFile = tmpFile('scaler.json', JSON.stringify(sc.toJSON()));
    const rf2 = (await loadSklearn(rfFile)) as ForestClassifierModel;
    const sc2 = (await loadSklearn(scFile)) as StandardScalerModel;
    const X = sc.transform(sc.rowsFromRecords(expected.features), 46);
    expect(sc2.transform(sc2.rowsFromRecords(expected.features), 46)).toEqual(X);
    expect(rf2.predictProba(X, 3)).toEqual(rf.predictProba(X, 3));
    expect(rf2.featureImportances).toEqual(rf.featureImportances);
    const le = (await loadSklearn(seed('classifier_transformer', 'label_encoder.joblib'))) as LabelEncoderModel;
    const le2 = LabelEncoderModel.fromJSON(JSON.parse(JSON.stringify(le.toJSON())));
    expect(le2.classes).toEqual(le.classes);
    await expect(loadSklearn(tmpFile('other.json', '{"format":"x"}'))).rejects.toThrow('other.json: unknown model JSON');
  });

  it('maps LabelEncoder and name lists', async () => {
    const le = (await loadSklearn(seed('classifier_transformer', 'label_encoder.joblib'))) as LabelEncoderModel;
    expect(le).toBeInstanceOf(LabelEncoderModel);
    expect(le.classes).toEqual(expected.rf_classes); // both sklearn-sorted
    expect(Array.from(le.transform(expected.class_names))).toEqual(expected.class_names.map((c) => expected.rf_classes.indexOf(c)));
    expect(le.inverseTransform([1, 0])).toEqual([expected.rf_classes[1], expected.rf_classes[0]]);
    expect(() => le.transform(['XX'])).toThrow('LabelEncoder: label "XX" at position 0 was not seen in fit');
    expect(await loadSklearn(seed('classifier', 'class_names.joblib'))).toEqual(expected.class_names);
    const system = (await loadSklearn(seed('classifier_transformer', 'complete_dl_fault_system.joblib'))) as Record<string, unknown>;
    expect(system.label_encoder).toBeInstanceOf(LabelEncoderModel);
    expect(system.sequence_scaler).toBeInstanceOf(StandardScalerModel);
    expect(system.feature_scaler).toBeInstanceOf(StandardScalerModel);
  });

  it('rejects bad classifier input naming the feature', async () => {
    const rf = (await loadSklearn(seed('classifier', 'fault_classifier.joblib'))) as ForestClassifierModel;
    const X = new Float64Array(46);
    X[3] = 1e39; // finite in float64, infinite in float32 (sklearn rejects it too)
    expect(() => rf.predictProba(X, 1)).toThrow('ForestClassifier: row 0, feature 3 is infinite or too large for float32');
    expect(() => rf.predictProba(new Float64Array(45), 1)).toThrow('ForestClassifier: input has 45 values, 1 rows × 46 features expected');
  });

  it('reads zlib- and gzip-compressed joblib files (joblib compress=...)', async () => {
    const plain = new Uint8Array(fs.readFileSync(seed('classifier', 'fault_classifier.joblib')));
    const ref = (await loadSklearn(seed('classifier', 'fault_classifier.joblib'))) as ForestClassifierModel;
    for (const [name, data] of [
      ['rf.joblib.z', zlibSync(plain, { level: 3 })],
      ['rf.joblib.gz', gzipSync(plain)],
    ] as const) {
      const m = (await loadSklearn(tmpFile(name, data))) as ForestClassifierModel;
      expect(m.toJSON()).toEqual(ref.toJSON());
    }
  });

  it('rejects truncated joblib files and decompression bombs', async () => {
    const plain = new Uint8Array(fs.readFileSync(seed('classifier', 'fault_classifier.joblib')));
    await expect(loadJoblib(tmpFile('cut.joblib', plain.subarray(0, 5000)))).rejects.toThrow(/^cut\.joblib: unexpected end of pickle data/);
    const z = zlibSync(plain);
    await expect(loadJoblib(tmpFile('cut.joblib.z', z.subarray(0, z.length >> 1)))).rejects.toThrow(
      /^cut\.joblib\.z: (truncated|corrupt) zlib-compressed joblib data/,
    );
    const bomb = zlibSync(new Uint8Array(8 << 20));
    expect(() => parseJoblib(bomb, 'bomb.joblib', { maxDecompressedBytes: 1 << 20 })).toThrow(
      'bomb.joblib: zlib-compressed joblib data that inflates further exceeds JOBLIB_MAX_DECOMPRESSED_BYTES (1 MiB)',
    );
  });
});

describe('bad joblib input', () => {
  it('names the disallowed global in a hostile joblib file', () => {
    const body = '\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x011\x94\x85\x94R\x94.';
    const evil = bytes(`\x80\x04\x95${String.fromCharCode(body.length)}\x00\x00\x00\x00\x00\x00\x00${body}`);
    expect(() => parseJoblib(evil, 'evil.joblib')).toThrow("evil.joblib: pickle global 'builtins.eval' is not allowed");
  });

  it('rejects files that are not joblib/pickle, and unsupported compressors', () => {
    expect(() => parseJoblib(bytes('hello'), 'text.joblib')).toThrow(
      'text.joblib: not a joblib/pickle file (unknown magic bytes 0x68 0x65)',
    );
    expect(() => parseJoblib(new Uint8Array(0), 'empty.joblib')).toThrow('empty.joblib: empty file');
    expect(() => parseJoblib(bytes('\xfd7zXZ\x00'), 'x.joblib.xz')).toThrow('x.joblib.xz: xz-compressed joblib files are not supported');
    expect(() => parseJoblib(bytes('ZF0x1234'), 'old.joblib')).toThrow(
      "old.joblib: old joblib (< 0.10) compressed format 'ZF' is not supported",
    );
  });

  it('reports the pre-0.10 multi-file joblib format plainly', () => {
    const old = bytes('\x80\x02cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81.');
    expect(() => parseJoblib(old, 'old.pkl')).toThrow('old.pkl: old joblib (< 0.10) multi-file format');
  });

  it('names a scikit-learn attribute that is missing (unfitted or foreign object)', () => {
    const scaler = new PyObject('sklearn.preprocessing._data.StandardScaler');
    expect(() => mapSklearn(scaler, 'unfitted.joblib')).toThrow("unfitted.joblib: StandardScaler has no attribute 'n_features_in_'");
  });
});
