/**
 * scikit-learn models mapped from joblib'd object graphs to TS, with JSON formats of our own so
 * that models trained here can be saved and loaded the same way.
 *
 * Numerics follow scikit-learn ≥ 1.3 exactly:
 * - StandardScaler.transform: (x − mean_) / scale_ (scale_ already has zero variances replaced by 1).
 * - Trees: X is cast to float32 before traversal (sklearn's DTYPE), then `x <= threshold` (float64)
 *   goes left; NaN follows `missing_go_to_left`. The leaf's `value` row is normalised to sum 1
 *   (older sklearn stores weighted counts, ≥ 1.4 stores fractions: both come out identical).
 * - Forest predict_proba: sum of per-tree probabilities in estimator order, divided by the tree count.
 * - feature_importances_: per tree, the weighted impurity decrease per feature divided by the root's
 *   weighted sample count and normalised to sum 1; the forest averages the trees with more than one
 *   node and normalises again.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NumpyArray } from './numpy';
import { PyObject, isPyDict, pyDictItems } from './unpickler';
import { LoadJoblibOptions, loadJoblib } from './joblib';
import { type LimitOverrides, limitError, resolveLimits, wrapParseError } from '../limits';

/**
 * A declared feature count (n_features_in_): a positive integer, equal to the length of every array
 * that is present, and never above SKLEARN_MAX_FEATURES when nothing else bounds it — checked
 * before anything of that size is allocated.
 */
function featureCount(
  v: unknown,
  cls: string,
  where: string,
  arrays: Array<{ name: string; length: number | undefined }>,
  limits: LimitOverrides,
): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new Error(`${where}: ${cls}.n_features_in_ is not a positive integer (${typeof v === 'number' ? v : typeof v})`);
  for (const a of arrays) {
    if (a.length !== undefined && a.length !== v)
      throw new Error(`${where}: ${cls}.${a.name} has ${a.length} entries, n_features_in_ says ${v}`);
  }
  const max = resolveLimits(limits).SKLEARN_MAX_FEATURES;
  if (v > max) throw limitError(where, 'SKLEARN_MAX_FEATURES', max, `${cls}.n_features_in_ = ${v}`);
  return v;
}

function lengthOf(v: unknown): number | undefined {
  if (v instanceof NumpyArray) return v.size;
  if (Array.isArray(v)) return v.length;
  return undefined;
}

const SCALER_FORMAT = 'anomaly-lab.standard-scaler';
const FOREST_FORMAT = 'anomaly-lab.forest-classifier';
const LABEL_ENCODER_FORMAT = 'anomaly-lab.label-encoder';

function attr(obj: PyObject, key: string, where: string): unknown {
  if (!(key in obj))
    throw new Error(
      `${where}: ${obj.__class__.split('.').pop()} has no attribute '${key}' (not fitted, or an unsupported scikit-learn version)`,
    );
  return obj[key];
}

function floatArray(v: unknown, what: string, where: string): Float64Array {
  if (v instanceof NumpyArray && ArrayBuffer.isView(v.data)) return v.toNumbers();
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Float64Array.from(v as number[]);
  throw new Error(`${where}: ${what} is not a numeric array`);
}

function intArray(v: NumpyArray | undefined, what: string, where: string): Int32Array {
  if (!v || !ArrayBuffer.isView(v.data)) throw new Error(`${where}: ${what} is missing or not numeric`);
  const out = new Int32Array(v.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(v.data[i]);
  return out;
}

/** Names from a list, a numpy str/object array, or undefined. */
function nameList(v: unknown, what: string, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const items = v instanceof NumpyArray ? (ArrayBuffer.isView(v.data) ? Array.from(v.data as ArrayLike<number>) : v.data) : v;
  if (!Array.isArray(items)) throw new Error(`${where}: ${what} is not a list of names`);
  return items.map((x) => String(x));
}

function checkRows(rows: ArrayLike<number>, nCols: number, expected: number, where: string): number {
  if (nCols !== expected) throw new Error(`${where}: input has ${nCols} columns, the model expects ${expected}`);
  if (rows.length % nCols !== 0) throw new Error(`${where}: input length ${rows.length} is not a multiple of ${nCols} columns`);
  return rows.length / nCols;
}

// ---------------------------------------------------------------------------------------------
// StandardScaler

export interface StandardScalerJSON {
  format: typeof SCALER_FORMAT;
  version: 1;
  mean: number[];
  scale: number[];
  var?: number[];
  with_mean: boolean;
  with_std: boolean;
  feature_names?: string[];
  n_samples_seen?: number;
}

/** scikit-learn's StandardScaler (fitted). `mean` is zeros when with_mean=False, `scale` ones when with_std=False. */
export class StandardScalerModel {
  constructor(
    public mean: Float64Array,
    public scale: Float64Array,
    public opts: { featureNames?: string[]; variance?: Float64Array; withMean?: boolean; withStd?: boolean; nSamplesSeen?: number } = {},
  ) {
    if (mean.length !== scale.length) throw new Error(`StandardScaler: mean has ${mean.length} features, scale ${scale.length}`);
    if (opts.featureNames && opts.featureNames.length !== mean.length) {
      throw new Error(`StandardScaler: ${opts.featureNames.length} feature names for ${mean.length} features`);
    }
  }

  get nFeatures(): number {
    return this.mean.length;
  }

  get featureNames(): string[] | undefined {
    return this.opts.featureNames;
  }

  /** Fits like sklearn (population variance; scales below 10·eps become 1). `rows` is row-major (n, nCols). */
  static fit(rows: ArrayLike<number>, nCols: number, featureNames?: string[]): StandardScalerModel {
    const n = rows.length / nCols;
    if (!Number.isInteger(n) || n < 1) throw new Error(`StandardScaler.fit: ${rows.length} values do not form rows of ${nCols} columns`);
    const mean = new Float64Array(nCols);
    const variance = new Float64Array(nCols);
    for (let c = 0; c < nCols; c++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += rows[r * nCols + c];
      const m = s / n;
      let ss = 0;
      for (let r = 0; r < n; r++) {
        const d = rows[r * nCols + c] - m;
        ss += d * d;
      }
      mean[c] = m;
      variance[c] = ss / n;
    }
    const scale = variance.map((v) => {
      const s = Math.sqrt(v);
      return s < 10 * Number.EPSILON ? 1 : s;
    });
    return new StandardScalerModel(mean, scale, { featureNames, variance, withMean: true, withStd: true, nSamplesSeen: n });
  }

  /** (x − mean) / scale on row-major (nRows, nCols) values. */
  transform(rows: Float64Array | Float32Array | ArrayLike<number>, nCols: number): Float64Array {
    const nRows = checkRows(rows, nCols, this.nFeatures, 'StandardScaler.transform');
    const out = new Float64Array(nRows * nCols);
    for (let r = 0; r < nRows; r++) {
      for (let c = 0; c < nCols; c++) out[r * nCols + c] = (rows[r * nCols + c] - this.mean[c]) / this.scale[c];
    }
    return out;
  }

  inverseTransform(rows: Float64Array | Float32Array | ArrayLike<number>, nCols: number): Float64Array {
    const nRows = checkRows(rows, nCols, this.nFeatures, 'StandardScaler.inverseTransform');
    const out = new Float64Array(nRows * nCols);
    for (let r = 0; r < nRows; r++) {
      for (let c = 0; c < nCols; c++) out[r * nCols + c] = rows[r * nCols + c] * this.scale[c] + this.mean[c];
    }
    return out;
  }

  /** Orders named records by `featureNames` (error naming a missing feature), row-major. */
  rowsFromRecords(records: Array<Record<string, number>>): Float64Array {
    const names = this.opts.featureNames;
    if (!names) throw new Error('StandardScaler: the scaler has no feature names (fitted without feature_names_in_)');
    const out = new Float64Array(records.length * names.length);
    records.forEach((rec, r) =>
      names.forEach((name, c) => {
        const v = rec[name];
        if (typeof v !== 'number') throw new Error(`StandardScaler: record ${r} has no numeric feature '${name}'`);
        out[r * names.length + c] = v;
      }),
    );
    return out;
  }

  toJSON(): StandardScalerJSON {
    return {
      format: SCALER_FORMAT,
      version: 1,
      mean: Array.from(this.mean),
      scale: Array.from(this.scale),
      ...(this.opts.variance ? { var: Array.from(this.opts.variance) } : {}),
      with_mean: this.opts.withMean ?? true,
      with_std: this.opts.withStd ?? true,
      ...(this.opts.featureNames ? { feature_names: this.opts.featureNames.slice() } : {}),
      ...(this.opts.nSamplesSeen !== undefined ? { n_samples_seen: this.opts.nSamplesSeen } : {}),
    };
  }

  static fromJSON(json: unknown, where = 'scaler JSON'): StandardScalerModel {
    const j = json as Partial<StandardScalerJSON>;
    if (!j || j.format !== SCALER_FORMAT) throw new Error(`${where}: not an ${SCALER_FORMAT} document`);
    if (!Array.isArray(j.mean) || !Array.isArray(j.scale)) throw new Error(`${where}: 'mean' and 'scale' must be arrays`);
    return new StandardScalerModel(Float64Array.from(j.mean), Float64Array.from(j.scale), {
      featureNames: j.feature_names,
      variance: j.var ? Float64Array.from(j.var) : undefined,
      withMean: j.with_mean,
      withStd: j.with_std,
      nSamplesSeen: j.n_samples_seen,
    });
  }

  static fromSklearn(obj: PyObject, where: string, limits: LimitOverrides = {}): StandardScalerModel {
    const nFeatures = featureCount(
      attr(obj, 'n_features_in_', where),
      'StandardScaler',
      where,
      [
        { name: 'mean_', length: lengthOf(obj.mean_) },
        { name: 'scale_', length: lengthOf(obj.scale_) },
        { name: 'var_', length: lengthOf(obj.var_) },
        { name: 'feature_names_in_', length: lengthOf(obj.feature_names_in_) },
      ],
      limits,
    );
    const withMean = obj.with_mean !== false;
    const withStd = obj.with_std !== false;
    const mean =
      obj.mean_ === null || obj.mean_ === undefined ? new Float64Array(nFeatures) : floatArray(obj.mean_, 'StandardScaler.mean_', where);
    const scale =
      obj.scale_ === null || obj.scale_ === undefined
        ? new Float64Array(nFeatures).fill(1)
        : floatArray(obj.scale_, 'StandardScaler.scale_', where);
    if (mean.length !== nFeatures || scale.length !== nFeatures)
      throw new Error(`${where}: StandardScaler arrays do not have n_features_in_=${nFeatures} entries`);
    const n = obj.n_samples_seen_;
    return new StandardScalerModel(mean, scale, {
      featureNames: nameList(obj.feature_names_in_, 'feature_names_in_', where),
      variance: obj.var_ instanceof NumpyArray ? floatArray(obj.var_, 'StandardScaler.var_', where) : undefined,
      withMean,
      withStd,
      nSamplesSeen: typeof n === 'number' ? n : undefined,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Decision trees and forests

/** One fitted tree as scikit-learn stores it (single output). Node arrays have `nodeCount` entries. */
export interface DecisionTreeArrays {
  childrenLeft: Int32Array;
  childrenRight: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  impurity: Float64Array;
  nNodeSamples: Float64Array;
  weightedNNodeSamples: Float64Array;
  /** 1 where samples with a missing (NaN) feature go left; absent before sklearn 1.3. */
  missingGoToLeft?: Uint8Array;
  /** (nodeCount, nClasses) row-major: class counts or fractions at each node. */
  value: Float64Array;
}

export interface ForestClassifierJSON {
  format: typeof FOREST_FORMAT;
  version: 1;
  kind: string;
  classes: Array<string | number>;
  n_features: number;
  feature_names?: string[];
  trees: Array<{
    children_left: number[];
    children_right: number[];
    feature: number[];
    threshold: number[];
    impurity: number[];
    n_node_samples: number[];
    weighted_n_node_samples: number[];
    missing_go_to_left?: number[];
    value: number[];
  }>;
}

const TREE_LEAF = -1;

/** A random forest (or a single decision tree: a forest of one) classifier. */
export class ForestClassifierModel {
  /** Class labels as strings (what predict returns). */
  readonly classes: string[];
  private cachedImportances?: Float64Array;

  constructor(
    /** Class labels in sklearn's `classes_` order (strings or numbers). */
    readonly classValues: Array<string | number>,
    readonly nFeatures: number,
    readonly trees: DecisionTreeArrays[],
    readonly opts: { kind?: string; featureNames?: string[] } = {},
  ) {
    this.classes = classValues.map(String);
    const nClasses = classValues.length;
    if (trees.length === 0) throw new Error('ForestClassifier: no trees');
    trees.forEach((t, i) => {
      const n = t.childrenLeft.length;
      const arrays = [t.childrenRight, t.feature, t.threshold, t.impurity, t.nNodeSamples, t.weightedNNodeSamples];
      if (arrays.some((a) => a.length !== n) || t.value.length !== n * nClasses) {
        throw new Error(`ForestClassifier: tree ${i} has inconsistent node arrays (${n} nodes, ${nClasses} classes)`);
      }
      for (let k = 0; k < n; k++) {
        const l = t.childrenLeft[k];
        const r = t.childrenRight[k];
        if (l === TREE_LEAF) continue;
        // Children always come after their parent in sklearn's node order; this also rules out cycles.
        if (l <= k || r <= k || l >= n || r >= n || t.feature[k] < 0 || t.feature[k] >= nFeatures) {
          throw new Error(`ForestClassifier: tree ${i} node ${k} has invalid children or feature`);
        }
      }
    });
    if (opts.featureNames && opts.featureNames.length !== nFeatures) {
      throw new Error(`ForestClassifier: ${opts.featureNames.length} feature names for ${nFeatures} features`);
    }
  }

  get kind(): string {
    return this.opts.kind ?? 'RandomForestClassifier';
  }

  get featureNames(): string[] | undefined {
    return this.opts.featureNames;
  }

  /** Leaf index of each tree for one row (X already cast to float32). */
  private leaf(tree: DecisionTreeArrays, X: ArrayLike<number>, base: number, row: number): number {
    let node = 0;
    while (tree.childrenLeft[node] !== TREE_LEAF) {
      const f = tree.feature[node];
      const x = Math.fround(X[base + f]);
      let left: boolean;
      if (Number.isNaN(x)) {
        if (!tree.missingGoToLeft)
          throw new Error(
            `ForestClassifier: row ${row}, feature ${this.featureLabel(f)} is NaN and the model has no missing-value routing`,
          );
        left = tree.missingGoToLeft[node] === 1;
      } else {
        left = x <= tree.threshold[node];
      }
      node = left ? tree.childrenLeft[node] : tree.childrenRight[node];
    }
    return node;
  }

  private featureLabel(f: number): string {
    return this.opts.featureNames ? `'${this.opts.featureNames[f]}'` : String(f);
  }

  /** Class probabilities, row-major (nRows, nClasses), as sklearn's predict_proba. */
  predictProba(X: Float64Array | Float32Array | ArrayLike<number>, nRows: number): Float64Array {
    if (X.length !== nRows * this.nFeatures) {
      throw new Error(`ForestClassifier: input has ${X.length} values, ${nRows} rows × ${this.nFeatures} features expected`);
    }
    for (let i = 0; i < X.length; i++) {
      // sklearn rejects values that are infinite once cast to float32.
      if (!Number.isNaN(X[i]) && !Number.isFinite(Math.fround(X[i]))) {
        throw new Error(
          `ForestClassifier: row ${Math.floor(i / this.nFeatures)}, feature ${this.featureLabel(i % this.nFeatures)} is infinite or too large for float32`,
        );
      }
    }
    const k = this.classes.length;
    const out = new Float64Array(nRows * k);
    const p = new Float64Array(k);
    for (let r = 0; r < nRows; r++) {
      const acc = out.subarray(r * k, (r + 1) * k);
      for (const tree of this.trees) {
        const leaf = this.leaf(tree, X, r * this.nFeatures, r);
        let norm = 0;
        for (let c = 0; c < k; c++) {
          p[c] = tree.value[leaf * k + c];
          norm += p[c];
        }
        if (norm === 0) norm = 1;
        for (let c = 0; c < k; c++) acc[c] += p[c] / norm;
      }
      for (let c = 0; c < k; c++) acc[c] /= this.trees.length;
    }
    return out;
  }

  /** Labels of the most probable class (first on ties, as numpy argmax). */
  predict(X: Float64Array | Float32Array | ArrayLike<number>, nRows: number): string[] {
    const proba = this.predictProba(X, nRows);
    const k = this.classes.length;
    return Array.from({ length: nRows }, (_, r) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (proba[r * k + c] > proba[r * k + best]) best = c;
      return this.classes[best];
    });
  }

  /** Mean decrease in impurity per feature (sklearn's feature_importances_). */
  get featureImportances(): Float64Array {
    if (!this.cachedImportances) {
      const perTree = this.trees.filter((t) => t.childrenLeft.length > 1).map((t) => treeImportances(t, this.nFeatures));
      const mean = new Float64Array(this.nFeatures);
      if (perTree.length > 0) {
        for (const imp of perTree) for (let f = 0; f < this.nFeatures; f++) mean[f] += imp[f];
        for (let f = 0; f < this.nFeatures; f++) mean[f] /= perTree.length;
        let sum = 0;
        for (let f = 0; f < this.nFeatures; f++) sum += mean[f];
        for (let f = 0; f < this.nFeatures; f++) mean[f] /= sum;
      }
      this.cachedImportances = mean;
    }
    return this.cachedImportances;
  }

  toJSON(): ForestClassifierJSON {
    return {
      format: FOREST_FORMAT,
      version: 1,
      kind: this.kind,
      classes: this.classValues.slice(),
      n_features: this.nFeatures,
      ...(this.opts.featureNames ? { feature_names: this.opts.featureNames.slice() } : {}),
      trees: this.trees.map((t) => ({
        children_left: Array.from(t.childrenLeft),
        children_right: Array.from(t.childrenRight),
        feature: Array.from(t.feature),
        threshold: Array.from(t.threshold),
        impurity: Array.from(t.impurity),
        n_node_samples: Array.from(t.nNodeSamples),
        weighted_n_node_samples: Array.from(t.weightedNNodeSamples),
        ...(t.missingGoToLeft ? { missing_go_to_left: Array.from(t.missingGoToLeft) } : {}),
        value: Array.from(t.value),
      })),
    };
  }

  static fromJSON(json: unknown, where = 'forest JSON'): ForestClassifierModel {
    const j = json as Partial<ForestClassifierJSON>;
    if (!j || j.format !== FOREST_FORMAT) throw new Error(`${where}: not an ${FOREST_FORMAT} document`);
    if (!Array.isArray(j.classes) || !Array.isArray(j.trees) || typeof j.n_features !== 'number') {
      throw new Error(`${where}: 'classes', 'trees' and 'n_features' are required`);
    }
    try {
      return new ForestClassifierModel(
        j.classes,
        j.n_features,
        j.trees.map((t) => ({
          childrenLeft: Int32Array.from(t.children_left),
          childrenRight: Int32Array.from(t.children_right),
          feature: Int32Array.from(t.feature),
          threshold: Float64Array.from(t.threshold),
          impurity: Float64Array.from(t.impurity),
          nNodeSamples: Float64Array.from(t.n_node_samples),
          weightedNNodeSamples: Float64Array.from(t.weighted_n_node_samples),
          missingGoToLeft: t.missing_go_to_left ? Uint8Array.from(t.missing_go_to_left) : undefined,
          value: Float64Array.from(t.value),
        })),
        { kind: j.kind, featureNames: j.feature_names },
      );
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }

  /** From an unpickled RandomForestClassifier / ExtraTreesClassifier / DecisionTreeClassifier. */
  static fromSklearn(obj: PyObject, where: string, limits: LimitOverrides = {}): ForestClassifierModel {
    const kind = obj.__class__.split('.').pop()!;
    const nOutputs = obj.n_outputs_;
    if (nOutputs !== undefined && nOutputs !== 1)
      throw new Error(`${where}: multi-output ${kind} (n_outputs_=${String(nOutputs)}) is not supported`);
    const classesAttr = attr(obj, 'classes_', where);
    if (!(classesAttr instanceof NumpyArray)) throw new Error(`${where}: ${kind}.classes_ is not an array`);
    const classValues = (
      ArrayBuffer.isView(classesAttr.data) ? Array.from(classesAttr.data as ArrayLike<number | bigint>, Number) : classesAttr.data
    ) as Array<string | number>;
    const nFeatures = featureCount(
      attr(obj, 'n_features_in_', where),
      kind,
      where,
      [{ name: 'feature_names_in_', length: lengthOf(obj.feature_names_in_) }],
      limits,
    );
    const estimators =
      kind.startsWith('DecisionTree') || (kind.startsWith('ExtraTree') && !kind.startsWith('ExtraTrees'))
        ? [obj]
        : attr(obj, 'estimators_', where);
    if (!Array.isArray(estimators)) throw new Error(`${where}: ${kind}.estimators_ is not a list`);
    const trees = estimators.map((est, i) => {
      if (!(est instanceof PyObject)) throw new Error(`${where}: estimator ${i} is not a decision tree`);
      return treeFromSklearn(est, classValues.length, `${where}: tree ${i}`);
    });
    return new ForestClassifierModel(classValues, nFeatures, trees, {
      kind,
      featureNames: nameList(obj.feature_names_in_, 'feature_names_in_', where),
    });
  }
}

function treeFromSklearn(est: PyObject, nClasses: number, where: string): DecisionTreeArrays {
  const tree = attr(est, 'tree_', where);
  if (!(tree instanceof PyObject) || tree.__class__ !== 'sklearn.tree._tree.Tree') throw new Error(`${where}: tree_ is not a sklearn Tree`);
  const nodes = tree.nodes;
  const values = tree.values;
  if (!(nodes instanceof NumpyArray) || !nodes.fields) throw new Error(`${where}: tree nodes are not a structured array`);
  if (!(values instanceof NumpyArray) || values.shape.length !== 3)
    throw new Error(`${where}: tree values are not a (nodes, outputs, classes) array`);
  const f = nodes.fields;
  const nodeCount = nodes.shape[0];
  const [vNodes, vOutputs, vClasses] = values.shape;
  if (vNodes !== nodeCount || vOutputs !== 1 || vClasses < nClasses) {
    throw new Error(`${where}: tree values have shape (${values.shape.join(', ')}), expected (${nodeCount}, 1, ≥${nClasses})`);
  }
  const rawValue = values.toNumbers();
  // Keep the first nClasses columns (sklearn slices proba[:, :n_classes_]).
  const value = new Float64Array(nodeCount * nClasses);
  for (let n = 0; n < nodeCount; n++) for (let c = 0; c < nClasses; c++) value[n * nClasses + c] = rawValue[n * vClasses + c];
  const num = (name: string): Float64Array => {
    if (!f[name]) throw new Error(`${where}: tree nodes have no '${name}' field`);
    return f[name].toNumbers();
  };
  return {
    childrenLeft: intArray(f.left_child, 'left_child', where),
    childrenRight: intArray(f.right_child, 'right_child', where),
    feature: intArray(f.feature, 'feature', where),
    threshold: num('threshold'),
    impurity: num('impurity'),
    nNodeSamples: num('n_node_samples'),
    weightedNNodeSamples: num('weighted_n_node_samples'),
    missingGoToLeft: f.missing_go_to_left ? Uint8Array.from(f.missing_go_to_left.toNumbers()) : undefined,
    value,
  };
}

/** sklearn Tree.compute_feature_importances(normalize=True). */
function treeImportances(t: DecisionTreeArrays, nFeatures: number): Float64Array {
  const imp = new Float64Array(nFeatures);
  for (let n = 0; n < t.childrenLeft.length; n++) {
    const l = t.childrenLeft[n];
    if (l === TREE_LEAF) continue;
    const r = t.childrenRight[n];
    imp[t.feature[n]] +=
      t.weightedNNodeSamples[n] * t.impurity[n] - t.weightedNNodeSamples[l] * t.impurity[l] - t.weightedNNodeSamples[r] * t.impurity[r];
  }
  const root = t.weightedNNodeSamples[0];
  let sum = 0;
  for (let i = 0; i < nFeatures; i++) {
    imp[i] /= root;
    sum += imp[i];
  }
  if (sum > 0) for (let i = 0; i < nFeatures; i++) imp[i] /= sum;
  return imp;
}

// ---------------------------------------------------------------------------------------------
// LabelEncoder

export interface LabelEncoderJSON {
  format: typeof LABEL_ENCODER_FORMAT;
  version: 1;
  classes: Array<string | number>;
}

/** scikit-learn's LabelEncoder: sorted `classes_`; transform = index in classes_. */
export class LabelEncoderModel {
  constructor(readonly classes: Array<string | number>) {}

  transform(labels: ArrayLike<string | number>): Int32Array {
    const index = new Map(this.classes.map((c, i) => [c, i]));
    return Int32Array.from(Array.from(labels), (l, i) => {
      const k = index.get(l);
      if (k === undefined)
        throw new Error(
          `LabelEncoder: label ${JSON.stringify(l)} at position ${i} was not seen in fit (classes: ${this.classes.join(', ')})`,
        );
      return k;
    });
  }

  inverseTransform(indices: ArrayLike<number>): Array<string | number> {
    return Array.from(indices, (k, i) => {
      if (!Number.isInteger(k) || k < 0 || k >= this.classes.length)
        throw new Error(`LabelEncoder: index ${k} at position ${i} is out of range`);
      return this.classes[k];
    });
  }

  toJSON(): LabelEncoderJSON {
    return { format: LABEL_ENCODER_FORMAT, version: 1, classes: this.classes.slice() };
  }

  static fromJSON(json: unknown, where = 'label encoder JSON'): LabelEncoderModel {
    const j = json as Partial<LabelEncoderJSON>;
    if (!j || j.format !== LABEL_ENCODER_FORMAT || !Array.isArray(j.classes))
      throw new Error(`${where}: not an ${LABEL_ENCODER_FORMAT} document`);
    return new LabelEncoderModel(j.classes);
  }

  static fromSklearn(obj: PyObject, where: string): LabelEncoderModel {
    const c = attr(obj, 'classes_', where);
    if (!(c instanceof NumpyArray)) throw new Error(`${where}: LabelEncoder.classes_ is not an array`);
    const classes = ArrayBuffer.isView(c.data)
      ? Array.from(c.data as ArrayLike<number | bigint>, Number)
      : (c.data as Array<string | number>);
    return new LabelEncoderModel(classes);
  }
}

// ---------------------------------------------------------------------------------------------
// Dispatch

export type SklearnValue = StandardScalerModel | ForestClassifierModel | LabelEncoderModel | string[] | unknown;

const FOREST_CLASSES = new Set([
  'sklearn.ensemble._forest.RandomForestClassifier',
  'sklearn.ensemble._forest.ExtraTreesClassifier',
  'sklearn.tree._classes.DecisionTreeClassifier',
  'sklearn.tree._classes.ExtraTreeClassifier',
]);

/**
 * Maps an unpickled object graph to TS models: StandardScaler, forest/tree classifiers,
 * LabelEncoder; name lists (lists or numpy str/object arrays of strings) become string[];
 * dicts and lists are mapped item by item; anything else is returned unchanged.
 */
export function mapSklearn(value: unknown, where: string, limits: LimitOverrides = {}): SklearnValue {
  return mapValue(value, where, new Map(), 0, limits);
}

const MAX_MAP_DEPTH = 200;

/** `seen` keeps shared (and cyclic) references shared in the mapped graph. */
function mapValue(value: unknown, where: string, seen: Map<unknown, unknown>, depth: number, limits: LimitOverrides): SklearnValue {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (depth > MAX_MAP_DEPTH) throw new Error(`${where}: object graph nested deeper than ${MAX_MAP_DEPTH} levels`);
  if (value instanceof PyObject) {
    const cls = value.__class__;
    let mapped: unknown = value;
    try {
      if (cls === 'sklearn.preprocessing._data.StandardScaler') mapped = StandardScalerModel.fromSklearn(value, where, limits);
      else if (FOREST_CLASSES.has(cls)) mapped = ForestClassifierModel.fromSklearn(value, where, limits);
      else if (cls === 'sklearn.preprocessing._label.LabelEncoder') mapped = LabelEncoderModel.fromSklearn(value, where);
    } catch (e) {
      // The model constructors' checks ('ForestClassifier: tree 3 …') get the file name too.
      throw wrapParseError(e, where, 'model');
    }
    seen.set(value, mapped);
    return mapped;
  }
  if (
    value instanceof NumpyArray &&
    !ArrayBuffer.isView(value.data) &&
    value.shape.length === 1 &&
    value.data.every((x) => typeof x === 'string')
  ) {
    return value.data as string[];
  }
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === 'string')) return value as string[];
    const out: unknown[] = [];
    seen.set(value, out);
    value.forEach((v, i) => out.push(mapValue(v, `${where}[${i}]`, seen, depth + 1, limits)));
    return out;
  }
  if (isPyDict(value)) {
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of pyDictItems(value)) {
      Object.defineProperty(out, String(k), {
        value: mapValue(v, `${where}.${String(k)}`, seen, depth + 1, limits),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * Loads a scikit-learn artefact: a joblib/pickle file (.joblib, .save, .pkl — allowlisted globals only)
 * or one of our JSON formats (.json). See `mapSklearn` for what comes back.
 */
export async function loadSklearn(file: string, opts: LoadJoblibOptions = {}): Promise<SklearnValue> {
  const name = path.basename(file);
  try {
    return await loadSklearnUnwrapped(file, name, opts);
  } catch (e) {
    throw wrapParseError(e, name, 'model file');
  }
}

async function loadSklearnUnwrapped(file: string, name: string, opts: LoadJoblibOptions): Promise<SklearnValue> {
  if (file.toLowerCase().endsWith('.json')) {
    const max = resolveLimits(opts.limitOverrides).JSON_MAX_BYTES;
    const size = (await fs.promises.stat(file)).size;
    if (size > max) throw limitError(name, 'JSON_MAX_BYTES', max, `a model JSON of ${size} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(await fs.promises.readFile(file, 'utf8'));
    } catch (e) {
      throw new Error(`${name}: invalid JSON (${(e as Error).message.split('\n')[0].slice(0, 200)})`);
    }
    const format = (json as { format?: unknown } | null)?.format;
    if (format === SCALER_FORMAT) return StandardScalerModel.fromJSON(json, name);
    if (format === FOREST_FORMAT) return ForestClassifierModel.fromJSON(json, name);
    if (format === LABEL_ENCODER_FORMAT) return LabelEncoderModel.fromJSON(json, name);
    if (Array.isArray(json) && json.every((x) => typeof x === 'string')) return json as string[];
    throw new Error(
      `${name}: unknown model JSON (format ${JSON.stringify(format)}); expected ${SCALER_FORMAT}, ${FOREST_FORMAT} or ${LABEL_ENCODER_FORMAT}`,
    );
  }
  return mapSklearn(await loadJoblib(file, opts), name, opts.limitOverrides);
}
