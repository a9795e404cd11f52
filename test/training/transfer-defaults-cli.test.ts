/**
 * Issue 14, point 5: the recommended transfer recipe is the default end to end, through the real
 * CLI on real jecheon data. `train --checkpoint <run dir> --column_map …` with no other new option
 * trains the recipe's schedule and budget and records the recipe's estimation settings; a plain
 * `estimate` of that run then scores with them (explicit flags win); a run from scratch records
 * the scratch arm's settings, and a checkpoint without a record keeps the original's defaults.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { AnomalyBert, saveCheckpoint, loadCheckpoint, estimateScores } from 'anomaly-lab/anomalybert';
import { ewmaSmooth } from 'anomaly-lab/core';
import { readNpy, loadSeries, MinMaxScaler } from 'anomaly-lab/io';
import {
  RECOMMENDED_TRANSFER,
  SCRATCH_ESTIMATION,
  resolveEstimation,
  resolveTransferRecipe,
  trainedRecipeBudget,
  resolveTrainOptions,
} from 'anomaly-lab/training';
import { runCli } from '../helpers/cli';
import { describeShared, sharedPath } from '../helpers/shared';
import { tinyModelFlags } from '../helpers/tiny-model';
import { tmpDir } from './train-helpers';

const TRAIN = sharedPath('data', 'ess', 'jecheon', 'data_1_20220517.csv');
const HELD_OUT = sharedPath('data', 'ess', 'jecheon', 'data_2_20220518.csv');
const MAP = 'voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT';

function ok(r: { code: number; stderr: string }): void {
  if (r.code !== 0) throw new Error(`CLI failed (${r.code}): ${r.stderr.slice(-2000)}`);
}

/** The parts of a run's config.json these tests read. */
interface RunConfig {
  max_steps: number;
  estimation: unknown;
  fine_tuning: { from_recommended_recipe: string[]; freeze_schedule: Array<{ stage: string; parts: string[]; until_step: number | null }> };
}

const json = (file: string): RunConfig => JSON.parse(fs.readFileSync(file, 'utf8')) as RunConfig;
/** `train` on the jecheon table's voltage and current columns; the caller adds the rest. */
const trainJecheon = (): string[] => ['train', '--train', TRAIN, '--columns', 'voltage,current'];

describe('resolveEstimation', () => {
  test('explicit settings win, then the recorded ones, then the original estimate.py defaults', () => {
    const rec = { extra: { estimation: { window_sliding: 32, smoothing: 0.9 } } };
    expect(resolveEstimation(rec)).toEqual({ window_sliding: 32, smoothing: 0.9, from_run: ['window_sliding', 'smoothing'] });
    expect(resolveEstimation(rec, { smoothing: 0 })).toEqual({ window_sliding: 32, smoothing: 0, from_run: ['window_sliding'] });
    expect(resolveEstimation({})).toEqual({ window_sliding: 16, smoothing: 0, from_run: [] });
    // A malformed record is not trusted.
    expect(resolveEstimation({ extra: { estimation: { window_sliding: 0, smoothing: 2 } } })).toEqual({
      window_sliding: 16,
      smoothing: 0,
      from_run: [],
    });
  });
});

describe('the recipe budget', () => {
  test('a recipe transfer without max_steps trains the recipe budget; a resume of one keeps it; an explicit value wins', () => {
    const o = resolveTrainOptions({ checkpoint: 'x' });
    const ctx = { nLayer: 2, windowLength: 512, maxStepsGiven: false };
    expect(resolveTransferRecipe(o, { ...ctx, transfer: true }).max_steps).toBe(RECOMMENDED_TRANSFER.max_steps);
    expect(resolveTransferRecipe(o, { ...ctx, transfer: false }).max_steps).toBe(150000);
    expect(resolveTransferRecipe(o, { ...ctx, transfer: false, resumedRecipeBudget: true }).max_steps).toBe(RECOMMENDED_TRANSFER.max_steps);
    const given = resolveTrainOptions({ checkpoint: 'x', max_steps: 30 });
    expect(resolveTransferRecipe(given, { ...ctx, maxStepsGiven: true, transfer: true }).max_steps).toBe(30);
    // A strategy of your own: the recipe (budget included) does not apply.
    const own = resolveTrainOptions({ checkpoint: 'x', layer_lr_decay: 0.5 });
    expect(resolveTransferRecipe(own, { ...ctx, transfer: true }).max_steps).toBe(150000);
    expect(trainedRecipeBudget({ extra: { fine_tuning: { from_recommended_recipe: ['freeze_schedule', 'max_steps'] } } })).toBe(true);
    expect(trainedRecipeBudget({ extra: { fine_tuning: { from_recommended_recipe: ['freeze_schedule'] } } })).toBe(false);
    expect(trainedRecipeBudget({})).toBe(false);
    // A window the recorded stride does not divide gets the largest divisor below it.
    expect(resolveTransferRecipe(o, { ...ctx, transfer: true, windowLength: 24 }).estimation).toEqual({
      window_sliding: 8,
      smoothing: RECOMMENDED_TRANSFER.estimation.smoothing,
    });
  });
});

describeShared('the default transfer recipe through the real CLI (jecheon)', () => {
  const root = tmpDir('transfer-defaults');
  const source = path.join(root, 'source');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  /** Fine-tune the panli source checkpoint onto jecheon's columns. */
  const fromSource = (): string[] => ['--checkpoint', source, '--column_map', MAP];

  beforeAll(async () => {
    // A small 3-column "panli" source checkpoint (window 32), written as a run's final step would be.
    const m = AnomalyBert.create(
      { inputDim: 3, outputDim: 1, patchSize: 4, nTokens: 8, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0.1 },
      { seed: 3 },
    );
    await saveCheckpoint(path.join(source, 'state', 'step_10'), m, { columns: ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC'], step: 10 });
    m.dispose();
  });

  test('train --checkpoint <run dir> --column_map: the recipe schedule, budget and estimation; estimate uses them', async () => {
    const out = path.join(root, 'jecheon');
    // Nothing but the data, the checkpoint and the map (plus the backend): the recommended recipe.
    ok(runCli([...trainJecheon(), ...fromSource(), '--summary_steps', '400', '--backend', 'wasm', '--out', out]));
    const config = json(path.join(out, 'config.json'));
    expect(config.max_steps).toBe(RECOMMENDED_TRANSFER.max_steps);
    expect(config.fine_tuning.from_recommended_recipe).toEqual(['freeze_schedule', 'max_steps', 'estimation']);
    expect(config.fine_tuning.freeze_schedule[0]).toEqual({ stage: 'embedding', parts: ['embedding'], until_step: 50 });
    expect(config.estimation).toEqual(RECOMMENDED_TRANSFER.estimation);
    expect(fs.existsSync(path.join(out, 'state', `step_${RECOMMENDED_TRANSFER.max_steps}`, 'config.json'))).toBe(true);
    const loaded = await loadCheckpoint(out);
    expect(loaded.meta.step).toBe(RECOMMENDED_TRANSFER.max_steps);
    expect(loaded.meta.extra?.estimation).toEqual(RECOMMENDED_TRANSFER.estimation);

    // A plain estimate of the run: the recipe's stride and EWMA from the run, equal to doing it by hand.
    const { window_sliding: stride, smoothing: weight } = RECOMMENDED_TRANSFER.estimation;
    const scoresFile = path.join(root, 'scores.npy');
    const r = runCli(['estimate', '--checkpoint', out, '--data', HELD_OUT, '--backend', 'wasm', '--out', scoresFile]);
    ok(r);
    expect(r.stdout).toContain(`window_sliding ${stride}, EWMA-smoothed (weight ${weight}); window_sliding and smoothing from the run`);
    await initBackend({ backend: 'wasm', logger: () => undefined });
    const series = await loadSeries(HELD_OUT, { columns: ['voltage', 'current'] });
    const scaled = MinMaxScaler.fromJSON(loaded.scaler as never).transform(series.values, 2);
    const raw16 = await estimateScores(loaded.model, scaled, series.length, { batchSize: 16, windowSliding: stride });
    const want = ewmaSmooth(raw16, weight);
    const got = readNpy(scoresFile).data as Float32Array;
    expect(got.length).toBe(series.length);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    expect(maxDiff).toBeLessThan(1e-6);
    // Explicit flags win: raw scores at stride 32.
    const r2 = runCli([
      'estimate',
      '--checkpoint',
      out,
      '--data',
      HELD_OUT,
      '--window_sliding',
      '32',
      '--smoothing',
      '0',
      '--backend',
      'wasm',
      '--out',
      scoresFile,
    ]);
    ok(r2);
    expect(r2.stdout).toContain('window_sliding 32, raw scores\n');
    const raw32 = await estimateScores(loaded.model, scaled, series.length, { batchSize: 16, windowSliding: 32 });
    const got32 = readNpy(scoresFile).data as Float32Array;
    let d32 = 0;
    for (let i = 0; i < got32.length; i++) d32 = Math.max(d32, Math.abs(got32[i] - raw32[i]));
    expect(d32).toBeLessThan(1e-6);
    loaded.model.dispose();
    // A checkpoint that recorded nothing: the original's stride 16 and raw scores.
    const plain = path.join(root, 'plain');
    const m = AnomalyBert.create(
      { inputDim: 2, outputDim: 1, patchSize: 4, nTokens: 8, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0 },
      { seed: 5 },
    );
    await saveCheckpoint(plain, m, { columns: ['voltage', 'current'], step: 1 });
    m.dispose();
    const r3 = runCli(['estimate', '--checkpoint', plain, '--data', HELD_OUT, '--backend', 'wasm', '--out', scoresFile]);
    ok(r3);
    expect(r3.stdout).toContain('window_sliding 16, raw scores\n');
  }, 600000);

  test('--max_steps or a strategy of your own: no recipe budget; scratch records the scratch settings', () => {
    const transfer = path.join(root, 'explicit');
    ok(runCli([...trainJecheon(), ...fromSource(), '--max_steps', '3', '--backend', 'wasm', '--out', transfer]));
    const t = json(path.join(transfer, 'config.json'));
    expect(t.max_steps).toBe(3);
    expect(t.fine_tuning.from_recommended_recipe).toEqual(['freeze_schedule', 'estimation']);
    expect(t.estimation).toEqual(RECOMMENDED_TRANSFER.estimation);
    const scratch = path.join(root, 'scratch');
    ok(runCli([...trainJecheon(), ...tinyModelFlags(), '--max_steps', '3', '--backend', 'wasm', '--out', scratch]));
    const s = json(path.join(scratch, 'config.json'));
    expect(s.max_steps).toBe(3);
    expect(s.fine_tuning.from_recommended_recipe).toEqual([]);
    expect(s.estimation).toEqual(SCRATCH_ESTIMATION);
  }, 300000);
});
