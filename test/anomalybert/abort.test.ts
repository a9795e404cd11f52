/**
 * Library side of Ctrl-C: the long loops take `signal` (a standard AbortSignal) and stop at their
 * next safe point with an AbortedError naming what stopped and how far it got. No process signals
 * here: the CLI wires SIGINT to the controller (test/hardening/ctrl-c.test.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { AnomalyBert, estimateScores, predictWindows } from 'anomaly-lab/anomalybert';
import { AbortedError } from 'anomaly-lab/core';
import { scoreStepsAsync, scoreSteps } from 'anomaly-lab/evaluation';
import { writeNpy } from 'anomaly-lab/io';

let model: AnomalyBert;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'al-abort-'));
beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
  model = AnomalyBert.create(
    { inputDim: 2, outputDim: 1, patchSize: 4, nTokens: 4, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0.1 },
    { seed: 2 },
  );
});
afterAll(() => {
  model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const series = (n: number): Float32Array => Float32Array.from({ length: n * 2 }, (_, i) => Math.sin(i / 5));

test.each(['onnx', 'tfjs'])(
  'estimateScores (%s) stops before the batch after the abort, naming itself and the windows done',
  async (engine) => {
    const n = 400;
    const controller = new AbortController();
    const seen: number[] = [];
    const run = estimateScores(model, series(n), n, {
      batchSize: 4,
      windowSliding: 4,
      engine,
      logEngine: false,
      signal: controller.signal,
      onProgress: (done) => {
        seen.push(done);
        if (seen.length === 3) controller.abort();
      },
    });
    const e = (await run.catch((x: unknown) => x)) as AbortedError;
    expect(e).toBeInstanceOf(AbortedError);
    expect(e.what).toBe('estimateScores');
    expect(e.unit).toBe('windows');
    expect(e.done).toBe(seen[2]);
    expect(seen).toHaveLength(3);
    expect(e.total).toBeGreaterThan(e.done as number);
    expect(e.message).toBe(`estimateScores stopped: aborted after ${e.done} of ${e.total} windows`);
    // Without a signal (or never aborted) the same call finishes.
    expect((await estimateScores(model, series(n), n, { batchSize: 4, windowSliding: 4, engine, logEngine: false })).length).toBe(n);
  },
);

test('predictWindows with an aborted signal does no batch', async () => {
  const W = model.windowSize;
  const controller = new AbortController();
  controller.abort();
  await expect(predictWindows(model, series(3 * W), 3, { signal: controller.signal, engine: 'tfjs', logEngine: false })).rejects.toThrow(
    'predictWindows stopped: aborted after 0 of 3 windows',
  );
});

test('scoreStepsAsync: the AbortedError carries the report of the steps scored so far, equal to scoring those alone', async () => {
  const run = path.join(tmp, 'run');
  fs.mkdirSync(path.join(run, 'state'), { recursive: true });
  const n = 2000;
  const labels = Uint8Array.from({ length: n }, (_, i) => (i % 200 < 10 ? 1 : 0));
  const labelFile = path.join(tmp, 'labels.npy');
  writeNpy(labelFile, labels, [n]);
  for (const step of [0, 5, 10, 15]) {
    writeNpy(
      path.join(run, 'state', `step_${step}_scores.npy`),
      Float32Array.from({ length: n }, (_, i) => labels[i] * (step / 20) + 0.5 * Math.abs(Math.sin(i + step))),
      [n, 1],
    );
  }
  const controller = new AbortController();
  const e = (await scoreStepsAsync(run, labelFile, {
    signal: controller.signal,
    onProgress: (done) => done === 2 && controller.abort(),
  }).catch((x: unknown) => x)) as AbortedError;
  expect(e).toBeInstanceOf(AbortedError);
  expect([e.what, e.done, e.total, e.unit]).toEqual(['scoreSteps', 2, 4, 'steps']);
  const partial = e.partial as ReturnType<typeof scoreSteps>;
  expect(partial.steps.map((s) => s.step)).toEqual([0, 5]);
  // The finished call equals the synchronous scoreSteps; the partial rows equal its first rows.
  const full = await scoreStepsAsync(run, labelFile);
  expect(full).toEqual(scoreSteps(run, labelFile));
  expect(partial.steps).toEqual(full.steps.slice(0, 2));
});
