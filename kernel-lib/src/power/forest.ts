/**
 * Random-forest classifier trained in TypeScript (scikit-learn's RandomForestClassifier
 * algorithm): Gini CART trees grown to purity by default, each on a bootstrap sample, trying
 * max_features = ⌊√n_features⌋ random features per split, thresholds at midpoints between
 * consecutive distinct (float32) values. The result is the pickle area's ForestClassifierModel
 * (same node arrays as sklearn, so its JSON format, predictProba and impurity importances apply).
 * Also: permutation importance for any classifier with predictProba.
 */
import { createRng, type Rng } from '../browser/random';
import { ForestClassifierModel, type DecisionTreeArrays } from '../pickle/sklearn';
import type { PowerClassifier } from './pipeline';

export interface ForestOptions {
  nEstimators?: number;
  /** Features tried per split: 'sqrt' (default), 'log2', 'all' or a count. */
  maxFeatures?: 'sqrt' | 'log2' | 'all' | number;
  maxDepth?: number;
  minSamplesSplit?: number;
  minSamplesLeaf?: number;
  bootstrap?: boolean;
  seed?: number;
  featureNames?: string[];
}

interface GrowState {
  X: Float32Array; // (n, F) values as float32, the precision the trees compare at
  F: number;
  y: Int32Array;
  K: number;
  weight: Float64Array; // bootstrap multiplicity per row
  rng: Rng;
  mtry: number;
  maxDepth: number;
  minSplit: number;
  minLeaf: number;
  nodes: {
    left: number[];
    right: number[];
    feature: number[];
    threshold: number[];
    impurity: number[];
    nSamples: number[];
    wSamples: number[];
    value: number[];
  };
}

function gini(counts: Float64Array, total: number): number {
  if (total <= 0) return 0;
  let s = 0;
  for (let k = 0; k < counts.length; k++) {
    const p = counts[k] / total;
    s += p * p;
  }
  return 1 - s;
}

/** Grow a node over rows idx (indices into X); returns the node id. Depth-first, parent first. */
function grow(st: GrowState, idx: Int32Array, depth: number): number {
  const { K, F, X, y, weight, nodes } = st;
  const counts = new Float64Array(K);
  let wTotal = 0;
  for (const r of idx) {
    counts[y[r]] += weight[r];
    wTotal += weight[r];
  }
  const impurity = gini(counts, wTotal);
  const id = nodes.left.length;
  nodes.left.push(-1);
  nodes.right.push(-1);
  nodes.feature.push(-2);
  nodes.threshold.push(-2);
  nodes.impurity.push(impurity);
  nodes.nSamples.push(idx.length);
  nodes.wSamples.push(wTotal);
  // sklearn ≥ 1.4 stores class fractions in `value`.
  for (let k = 0; k < K; k++) nodes.value.push(wTotal > 0 ? counts[k] / wTotal : 0);
  if (impurity <= 1e-12 || depth >= st.maxDepth || idx.length < st.minSplit || idx.length < 2 * st.minLeaf) return id;

  // Random feature subset (Fisher–Yates prefix). Like sklearn, keep drawing past constant
  // features until a usable split is found or all features were tried.
  const feats = Int32Array.from({ length: F }, (_, i) => i);
  let best = { gain: 0, feature: -1, threshold: 0 };
  const order = new Int32Array(idx.length);
  let tried = 0;
  for (let j = 0; j < F && (tried < st.mtry || best.feature < 0); j++) {
    const pick = j + st.rng.int(0, F - j);
    [feats[j], feats[pick]] = [feats[pick], feats[j]];
    const f = feats[j];
    order.set(idx);
    order.sort((a, b) => X[a * F + f] - X[b * F + f]);
    if (X[order[0] * F + f] === X[order[order.length - 1] * F + f]) continue; // constant here
    tried++;
    const left = new Float64Array(K);
    let wl = 0;
    let nl = 0;
    for (let s = 0; s < order.length - 1; s++) {
      const r = order[s];
      left[y[r]] += weight[r];
      wl += weight[r];
      nl++;
      const x0 = X[r * F + f];
      const x1 = X[order[s + 1] * F + f];
      if (x0 === x1) continue;
      if (nl < st.minLeaf || order.length - nl < st.minLeaf) continue;
      const wr = wTotal - wl;
      if (wl <= 0 || wr <= 0) continue;
      let sl = 0;
      let sr = 0;
      for (let k = 0; k < K; k++) {
        sl += left[k] * left[k];
        const rk = counts[k] - left[k];
        sr += rk * rk;
      }
      // Weighted child impurity = wl·(1 − Σpl²) + wr·(1 − Σpr²); gain relative to the parent.
      const child = wl - sl / wl + (wr - sr / wr);
      const gain = wTotal * impurity - child;
      if (gain > best.gain + 1e-12) {
        let thr = (x0 + x1) / 2;
        // As sklearn: a midpoint that rounds up to x1 would send x1 left; use x0 then.
        if (thr === x1 || !Number.isFinite(thr)) thr = x0;
        best = { gain, feature: f, threshold: thr };
      }
    }
  }
  if (best.feature < 0) return id;
  const f = best.feature;
  const li: number[] = [];
  const ri: number[] = [];
  for (const r of idx) (X[r * F + f] <= best.threshold ? li : ri).push(r);
  if (li.length === 0 || ri.length === 0) return id;
  nodes.feature[id] = f;
  nodes.threshold[id] = best.threshold;
  nodes.left[id] = grow(st, Int32Array.from(li), depth + 1);
  nodes.right[id] = grow(st, Int32Array.from(ri), depth + 1);
  return id;
}

/**
 * Fit a random forest. X is row-major (nRows, nFeatures) float64 (compared as float32, as
 * sklearn does); labels are class names. Classes are sorted (sklearn's `classes_` order).
 */
export function trainRandomForest(X: Float64Array, nRows: number, labels: string[], opts: ForestOptions = {}): ForestClassifierModel {
  if (nRows < 2) throw new Error(`random forest: need at least 2 training rows, got ${nRows}`);
  if (labels.length !== nRows) throw new Error(`random forest: ${labels.length} labels for ${nRows} rows`);
  const F = X.length / nRows;
  if (!Number.isInteger(F) || F < 1) throw new Error(`random forest: X has ${X.length} values, not a multiple of ${nRows} rows`);
  for (let i = 0; i < X.length; i++) {
    if (!Number.isFinite(X[i]))
      throw new Error(`random forest: row ${Math.floor(i / F)}, feature ${opts.featureNames?.[i % F] ?? i % F} is not finite`);
  }
  const classes = [...new Set(labels)].sort();
  const y = Int32Array.from(labels, (l) => classes.indexOf(l));
  const K = classes.length;
  const nTrees = opts.nEstimators ?? 100;
  const mf = opts.maxFeatures ?? 'sqrt';
  const mtry = Math.max(
    1,
    Math.min(F, mf === 'sqrt' ? Math.floor(Math.sqrt(F)) : mf === 'log2' ? Math.floor(Math.log2(F)) : mf === 'all' ? F : Math.floor(mf)),
  );
  const rng = createRng(opts.seed ?? 0);
  const Xf = Float32Array.from(X);
  const trees: DecisionTreeArrays[] = [];
  for (let t = 0; t < nTrees; t++) {
    const weight = new Float64Array(nRows);
    if (opts.bootstrap ?? true) {
      for (let i = 0; i < nRows; i++) weight[rng.int(0, nRows)] += 1;
    } else {
      weight.fill(1);
    }
    const idx: number[] = [];
    for (let i = 0; i < nRows; i++) if (weight[i] > 0) idx.push(i);
    const st: GrowState = {
      X: Xf,
      F,
      y,
      K,
      weight,
      rng,
      mtry,
      maxDepth: opts.maxDepth ?? Infinity,
      minSplit: opts.minSamplesSplit ?? 2,
      minLeaf: opts.minSamplesLeaf ?? 1,
      nodes: { left: [], right: [], feature: [], threshold: [], impurity: [], nSamples: [], wSamples: [], value: [] },
    };
    grow(st, Int32Array.from(idx), 0);
    const nd = st.nodes;
    trees.push({
      childrenLeft: Int32Array.from(nd.left),
      childrenRight: Int32Array.from(nd.right),
      feature: Int32Array.from(nd.feature),
      threshold: Float64Array.from(nd.threshold),
      impurity: Float64Array.from(nd.impurity),
      nNodeSamples: Float64Array.from(nd.nSamples),
      weightedNNodeSamples: Float64Array.from(nd.wSamples),
      value: Float64Array.from(nd.value),
    });
  }
  return new ForestClassifierModel(classes, F, trees, { kind: 'RandomForestClassifier', featureNames: opts.featureNames });
}

/** Accuracy of argmax predictions. */
export function classifierAccuracy(model: PowerClassifier, X: Float64Array, nRows: number, labels: string[]): number {
  const proba = model.predictProba(X, nRows);
  const K = model.classes.length;
  let ok = 0;
  for (let r = 0; r < nRows; r++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (proba[r * K + k] > proba[r * K + best]) best = k;
    if (String(model.classes[best]) === labels[r]) ok++;
  }
  return ok / nRows;
}

export interface PermutationImportance {
  /** Mean accuracy drop per feature when that column is shuffled. */
  mean: Float64Array;
  std: Float64Array;
  baseline: number;
}

/** Permutation importance (accuracy drop) for any probabilistic classifier. */
export function permutationImportance(
  model: PowerClassifier,
  X: Float64Array,
  nRows: number,
  labels: string[],
  opts: { nRepeats?: number; seed?: number } = {},
): PermutationImportance {
  const F = X.length / nRows;
  const repeats = opts.nRepeats ?? 5;
  const rng = createRng(opts.seed ?? 0);
  const baseline = classifierAccuracy(model, X, nRows, labels);
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  const Xp = Float64Array.from(X);
  const perm = new Int32Array(nRows);
  for (let f = 0; f < F; f++) {
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < nRows; i++) perm[i] = i;
      for (let i = nRows - 1; i > 0; i--) {
        const j = rng.int(0, i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      for (let i = 0; i < nRows; i++) Xp[i * F + f] = X[perm[i] * F + f];
      drops.push(baseline - classifierAccuracy(model, Xp, nRows, labels));
    }
    for (let i = 0; i < nRows; i++) Xp[i * F + f] = X[i * F + f];
    const m = drops.reduce((a, b) => a + b, 0) / repeats;
    mean[f] = m;
    std[f] = Math.sqrt(drops.reduce((a, b) => a + (b - m) ** 2, 0) / repeats);
  }
  return { mean, std, baseline };
}
