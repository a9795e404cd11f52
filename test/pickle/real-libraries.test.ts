/**
 * Files written by the real torch 1.13 / numpy 1.24 / scikit-learn 1.2 / joblib 1.2 / omegaconf 2.2
 * (Debian packages; see fixtures/make_real_fixtures.py), checked against the reference values those
 * libraries computed (the *_expected.json sidecars).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  ForestClassifierModel,
  LabelEncoderModel,
  NumpyArray,
  StandardScalerModel,
  loadSklearn,
  loadTorchCheckpoint,
  loadTorchStateDict,
  parseJoblib,
} from 'anomaly-lab/pickle';

const FIX = path.join(__dirname, 'fixtures');
const json = (name: string): any => JSON.parse(fs.readFileSync(path.join(FIX, name), 'utf8')); // eslint-disable-line @typescript-eslint/no-explicit-any

describe('torch 1.13 archives', () => {
  const expected = json('torch_real_state_dict_expected.json') as Record<
    string,
    { shape: number[]; dtype: string; values: Array<number | string> }
  >;

  it('reads every tensor of a real state dict exactly (views, float64/16, bfloat16, int64, int32, bool)', async () => {
    const sd = await loadTorchStateDict(path.join(FIX, 'torch_real_state_dict.pt'));
    expect([...sd.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, ref] of Object.entries(expected)) {
      const t = sd.get(name)!;
      expect({ name, shape: t.shape, dtype: t.dtype }).toEqual({ name, shape: ref.shape, dtype: ref.dtype });
      if (ref.dtype === 'int64') {
        expect(Array.from(t.intData as BigInt64Array)).toEqual(ref.values.map((v) => BigInt(v)));
      } else if (ref.dtype === 'bool' || ref.dtype === 'int32') {
        expect(Array.from(t.intData as ArrayLike<number>)).toEqual(ref.values);
      } else {
        // Reference values are the tensor's values widened to float64; `data` holds them as float32.
        expect(Array.from(t.data)).toEqual(ref.values.map((v) => Math.fround(v as number)));
      }
    }
  });

  it("reads the ESS fork's checkpoint: weights under model_state_dict, OmegaConf options as a plain object", async () => {
    const ref = json('torch_real_ess_checkpoint_expected.json');
    const ckpt = await loadTorchCheckpoint(path.join(FIX, 'torch_real_ess_checkpoint.pt'));
    expect(ckpt.stateDictKey).toBe('model_state_dict');
    expect([...ckpt.stateDict.keys()]).toEqual(ref.keys);
    expect(ckpt.extra.options).toEqual(ref.options);
    // loadTorchStateDict picks the same weights
    const sd = await loadTorchStateDict(path.join(FIX, 'torch_real_ess_checkpoint.pt'));
    expect(sd.get('embed.weight')!.data).toEqual(ckpt.stateDict.get('embed.weight')!.data);
    await expect(loadTorchCheckpoint(path.join(FIX, 'torch_real_ess_checkpoint.pt'), { key: 'weights' })).rejects.toThrow(
      "torch_real_ess_checkpoint.pt: no state dict under key 'weights' (top-level keys: model_state_dict, options)",
    );
  });

  it('refuses a whole pickled nn.Module with a hint, executing nothing', async () => {
    await expect(loadTorchStateDict(path.join(FIX, 'torch_real_whole_model.pt'))).rejects.toThrow(
      /^torch_real_whole_model\.pt: pickle global '__main__\.Tiny' is not allowed \(is this a whole pickled model\?/,
    );
  });
});

describe('scikit-learn 1.2 / joblib 1.2 (trees store class counts)', () => {
  const ref = json('sklearn12_expected.json');
  const Xt = Float64Array.from((ref.X_test as number[][]).flat());
  const nRows = (ref.X_test as number[][]).length;
  const maxAbsDiff = (a: ArrayLike<number>, b: number[]): number => b.reduce((m, v, i) => Math.max(m, Math.abs(a[i] - v)), 0);

  it('forest (int classes) and tree (str classes) predict_proba, predict and importances match sklearn', async () => {
    const bundle = (await loadSklearn(path.join(FIX, 'sklearn12_bundle.joblib'))) as Record<string, unknown>;
    const rf = bundle.forest as ForestClassifierModel;
    expect(rf).toBeInstanceOf(ForestClassifierModel);
    expect(rf.classValues).toEqual(ref.forest_classes);
    expect(maxAbsDiff(rf.predictProba(Xt, nRows), ref.forest_proba.flat())).toBeLessThanOrEqual(1e-12);
    expect(maxAbsDiff(rf.featureImportances, ref.forest_importances)).toBeLessThanOrEqual(1e-12);
    const dt = bundle.tree as ForestClassifierModel;
    expect(dt.kind).toBe('DecisionTreeClassifier');
    expect(dt.classes).toEqual(ref.tree_classes);
    expect(maxAbsDiff(dt.predictProba(Xt, nRows), ref.tree_proba.flat())).toBeLessThanOrEqual(1e-12);
    expect(dt.predict(Xt, nRows)).toEqual(ref.tree_predict);
    expect(maxAbsDiff(dt.featureImportances, ref.tree_importances)).toBeLessThanOrEqual(1e-12);
  });

  it('StandardScaler (incl. a constant column) and LabelEncoder match sklearn; plain name lists stay lists', async () => {
    const bundle = (await loadSklearn(path.join(FIX, 'sklearn12_bundle.joblib'))) as Record<string, unknown>;
    const sc = bundle.scaler as StandardScalerModel;
    expect(sc).toBeInstanceOf(StandardScalerModel);
    expect(Array.from(sc.scale)).toEqual(ref.scaler_scale);
    expect(maxAbsDiff(sc.transform(Xt, 5), ref.scaler_transform.flat())).toBeLessThanOrEqual(1e-12);
    expect((bundle.encoder as LabelEncoderModel).classes).toEqual(ref.encoder_classes);
    expect(bundle.names).toEqual(ref.names);
  });

  it('reads joblib zlib and gzip compression', async () => {
    const rf = (await loadSklearn(path.join(FIX, 'sklearn12_forest.joblib.z'))) as ForestClassifierModel;
    expect(maxAbsDiff(rf.predictProba(Xt, nRows), ref.forest_proba.flat())).toBeLessThanOrEqual(1e-12);
    const sc = (await loadSklearn(path.join(FIX, 'sklearn12_scaler.joblib.gz'))) as StandardScalerModel;
    expect(Array.from(sc.scale)).toEqual(ref.scaler_scale);
  });

  it('NaN input to a tree without missing-value routing (sklearn < 1.3) is a named error', async () => {
    const rf = (await loadSklearn(path.join(FIX, 'sklearn12_forest.joblib.z'))) as ForestClassifierModel;
    const X = Xt.slice(0, 5);
    X.fill(NaN);
    expect(() => rf.predictProba(X, 1)).toThrow(/^ForestClassifier: row 0, feature \d is NaN and the model has no missing-value routing/);
  });
});

describe('numpy 1.24 pickles (protocol 2 and 5)', () => {
  const ref = json('numpy124_expected.json');
  it.each([2, 5])('protocol %i: Fortran, big-endian, uint16, unicode, structured, object arrays and scalars', (proto) => {
    const v = parseJoblib(new Uint8Array(fs.readFileSync(path.join(FIX, `numpy124_protocol${proto}.pkl`))), 'np.pkl') as Record<
      string,
      NumpyArray | number
    >;
    for (const name of ['f8_fortran', 'i4_big_endian', 'u2', 'unicode', 'objects']) {
      const a = v[name] as NumpyArray;
      expect({ name, shape: a.shape, values: Array.from(a.data as ArrayLike<unknown>) }).toEqual({ name, ...ref[name] });
    }
    const rec = v.records as NumpyArray;
    for (const f of ['a', 'b', 'c']) {
      expect(Array.from(rec.fields![f].data as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x))).toEqual(
        ref.records[f].values.map((x: number | boolean) => Number(x)),
      );
    }
    expect(v.scalar_f8).toBe(ref.scalar_f8);
    expect(v.scalar_i8).toBe(ref.scalar_i8);
  });
});
