/** Random forest trained here: fits, generalises on a separable problem, round-trips as JSON. */
import { createRng } from 'anomaly-lab/core';
import { ForestClassifierModel } from 'anomaly-lab/pickle';
import { classifierAccuracy, permutationImportance, trainRandomForest } from 'anomaly-lab/power';

/** Three classes decided by features 0 and 1; features 2..5 are noise. */
function problem(n: number, seed: number): { X: Float64Array; y: string[] } {
  const rng = createRng(seed);
  const F = 6;
  const X = new Float64Array(n * F);
  const y: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) X[i * F + f] = rng.normal();
    y.push(X[i * F] > 0.3 ? 'A' : X[i * F + 1] > 0 ? 'B' : 'C');
  }
  return { X, y };
}

describe('trainRandomForest', () => {
  const train = problem(300, 1);
  const heldOut = problem(300, 2);
  const forest = trainRandomForest(train.X, 300, train.y, { nEstimators: 30, seed: 4, featureNames: ['a', 'b', 'n1', 'n2', 'n3', 'n4'] });

  test('classes sorted as sklearn classes_, grown trees fit the training set', () => {
    expect(forest.classes).toEqual(['A', 'B', 'C']);
    expect(forest.trees).toHaveLength(30);
    expect(classifierAccuracy(forest, train.X, 300, train.y)).toBeGreaterThan(0.97);
  });

  test('generalises to unseen rows of the same problem', () => {
    expect(classifierAccuracy(forest, heldOut.X, 300, heldOut.y)).toBeGreaterThan(0.9);
  });

  test('probabilities are leaf class fractions averaged over trees (rows sum to 1)', () => {
    const p = forest.predictProba(heldOut.X.subarray(0, 60), 10);
    for (let r = 0; r < 10; r++) expect(p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2]).toBeCloseTo(1, 12);
  });

  test('impurity importances sum to 1 and rank the informative features first', () => {
    const imp = forest.featureImportances;
    expect(imp.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
    const noise = Math.max(imp[2], imp[3], imp[4], imp[5]);
    expect(Math.min(imp[0], imp[1])).toBeGreaterThan(noise);
  });

  test('permutation importance: shuffling an informative column costs accuracy, noise does not', () => {
    const pi = permutationImportance(forest, heldOut.X, 300, heldOut.y, { nRepeats: 3, seed: 1 });
    expect(pi.mean[0]).toBeGreaterThan(0.2);
    expect(pi.mean[1]).toBeGreaterThan(0.1);
    for (const f of [2, 3, 4, 5]) expect(Math.abs(pi.mean[f])).toBeLessThan(0.05);
  });

  test("JSON round trip (the pickle area's forest format) predicts identically", () => {
    const back = ForestClassifierModel.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())), 'forest.json');
    expect(Array.from(back.predictProba(heldOut.X, 300))).toEqual(Array.from(forest.predictProba(heldOut.X, 300)));
    expect(back.featureNames).toEqual(['a', 'b', 'n1', 'n2', 'n3', 'n4']);
  });

  test('same seed → same forest; bad input is named', () => {
    const again = trainRandomForest(train.X, 300, train.y, { nEstimators: 30, seed: 4 });
    expect(Array.from(again.predictProba(heldOut.X, 300))).toEqual(Array.from(forest.predictProba(heldOut.X, 300)));
    const bad = Float64Array.from(train.X);
    bad[7] = NaN;
    expect(() => trainRandomForest(bad, 300, train.y, { featureNames: ['a', 'b', 'n1', 'n2', 'n3', 'n4'] })).toThrow(
      /row 1, feature b is not finite/,
    );
    expect(() => trainRandomForest(train.X, 300, train.y.slice(1))).toThrow(/299 labels for 300 rows/);
  });
});
