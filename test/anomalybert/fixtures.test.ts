/**
 * AnomalyBERT against the reference fixtures computed with the original PyTorch code
 * (../shared/fixtures/anomalybert): raw logits within 1e-4 and sliding-window scores (batch 4,
 * sliding 16) within 1e-5, on the wasm and the cpu backend, through the library and the real CLI.
 * These run the tfjs engine; onnx.test.ts runs the same fixtures on the onnx engine.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { estimateScores, loadCheckpoint, predictWindows } from 'anomaly-lab/anomalybert';
import { readNpy, toFloat32 } from 'anomaly-lab/io';
import { describeShared, sharedPath } from '../helpers/shared';
import { runCli } from '../helpers/cli';
import { maxAbsDiff } from '../helpers/numeric';

const fx = (name: string): string => sharedPath('fixtures', 'anomalybert', name);

type Loaded = Awaited<ReturnType<typeof loadCheckpoint>>;
/** The fixture checkpoint, loaded for `use` and disposed afterwards whatever `use` does. */
async function withFixtureModel(use: (model: Loaded['model'], meta: Loaded['meta']) => Promise<void> | void): Promise<void> {
  const { model, meta } = await loadCheckpoint(fx('state_dict.pt'));
  try {
    await use(model, meta);
  } finally {
    model.dispose();
  }
}

describeShared('AnomalyBERT reference fixtures', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-fixtures-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const backend of ['wasm', 'cpu'] as const) {
    describe(`${backend} backend`, () => {
      beforeAll(async () => {
        await initBackend({ backend, log: false });
      });
      /** The real CLI's `command` on the fixture checkpoint and `data`, tfjs on this backend: the .npy it wrote. */
      const cliOnFixture = (command: string, data: string, outName: string, extra: string[] = []): ReturnType<typeof readNpy> => {
        const out = path.join(tmp, outName);
        const r = runCli([
          command,
          '--checkpoint',
          fx('state_dict.pt'),
          '--data',
          fx(data),
          ...extra,
          '--out',
          out,
          '--backend',
          backend,
          '--engine',
          'tfjs',
        ]);
        expect(r.stderr).toContain(`backend '${backend}'`);
        expect(r.code).toBe(0);
        return readNpy(out);
      };

      test('state_dict.pt loads with the configuration of expected.json', async () => {
        const expected = JSON.parse(fs.readFileSync(fx('expected.json'), 'utf8')).config;
        await withFixtureModel((model, meta) => {
          expect(meta.format).toBe('torch.state_dict');
          expect(model.config).toMatchObject({
            inputDim: expected.input_d_data,
            outputDim: 1,
            patchSize: expected.patch_size,
            nTokens: expected.max_seq_len,
            dEmbed: expected.d_embed,
            nLayer: expected.n_layer,
            nHead: expected.n_head,
          });
        });
      });

      test('predict matches expected_logits.npy within 1e-4', () =>
        withFixtureModel(async (model) => {
          const windows = readNpy(fx('windows.npy'));
          const expected = readNpy(fx('expected_logits.npy'));
          const before = tf.memory().numTensors;
          const logits = await predictWindows(model, toFloat32(windows), windows.shape[0], { batchSize: 2, engine: 'tfjs' });
          expect(tf.memory().numTensors).toBe(before);
          expect(maxAbsDiff(logits, toFloat32(expected))).toBeLessThan(1e-4);
        }));

      // cpu runs ~4× slower inside jest's sandbox than in a plain process: the cpu estimate goes
      // through the real CLI below instead.
      if (backend === 'wasm')
        test('estimate (batch 4, sliding 16) matches expected_scores.npy within 1e-5', () =>
          withFixtureModel(async (model) => {
            const series = readNpy(fx('series.npy'));
            const expected = readNpy(fx('expected_scores.npy'));
            const before = tf.memory().numTensors;
            let progress = 0;
            const scores = await estimateScores(model, toFloat32(series), series.shape[0], {
              batchSize: 4,
              windowSliding: 16,
              engine: 'tfjs',
              onProgress: (done) => (progress = done),
            });
            expect(tf.memory().numTensors).toBe(before);
            expect(progress).toBeGreaterThan(0);
            expect(maxAbsDiff(scores, toFloat32(expected))).toBeLessThan(1e-5);
          }));

      test('CLI estimate (batch 4, sliding 16) writes scores matching the fixture', () => {
        const got = cliOnFixture('estimate', 'series.npy', `scores-${backend}.npy`, ['--batch-size', '4', '--window_sliding', '16']);
        const expected = readNpy(fx('expected_scores.npy'));
        expect(got.shape).toEqual(expected.shape);
        expect(maxAbsDiff(toFloat32(got), toFloat32(expected))).toBeLessThan(1e-5);
      });

      test('CLI predict writes logits matching the fixture', () => {
        const got = cliOnFixture('predict', 'windows.npy', `logits-${backend}.npy`);
        expect(got.dtype).toBe('float32');
        expect(got.shape).toEqual(readNpy(fx('expected_logits.npy')).shape);
        expect(maxAbsDiff(toFloat32(got), toFloat32(readNpy(fx('expected_logits.npy'))))).toBeLessThan(1e-4);
      });
    });
  }
});
