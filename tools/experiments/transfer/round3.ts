/**
 * Round 3 of the transfer protocol (session 5): the training budget and the estimation smoothing,
 * chosen on jecheon 2022-05-17 only, now that the onnx training engine makes thousands of steps cheap.
 *
 * Three folds, all on 05-17: fold 0 / 1 train one rack and validate on the other rack's synthetic
 * draws (seeds 7001…7003, + 10·fold; 12 anomalies of 0.05%…2% of the day); fold 2 trains on the first
 * 60% of both racks (windows within a rack, as `--train <dir>` does) and validates on each rack's last
 * 40% (draws 7021, 7022, + 100 for rack 2). Fold 2 was added after folds 0 and 1 disagreed about
 * transfer (it mirrors a deployment that trains on both racks; explore2.cjs, same logic). Both arms (transfer = the default recipe's
 * --checkpoint + --column_map; scratch = the workshop model), selection seeds 91 and 92, every summary
 * checkpoint scored at stride 16 under several EWMA weights; the first-difference baseline beside.
 *
 * The lead's runs were made with a plain-JS first version of this module (coord/s5/explore.cjs, same
 * logic); `--round3_import` reads their per-run files, `--round3` re-runs them. One run's JSON has
 * the same shape in both: { arm, seed, fold, tag, extra, fd: {ewma: F1 per draw}, steps: {step: {ewma: F1 per draw}} }.
 */
import * as fs from 'fs';
import * as path from 'path';
import { estimateScores, loadCheckpoint, loadSeries, prepareMetrics, synthesizeTestSet, trainAnomalyBert, type Series } from 'anomaly-lab';
import { ewmaSmooth } from 'anomaly-lab/core';
import { firstDifferenceBaseline, fitBaselineStats } from 'anomaly-lab/evaluation';
import { concatSeries } from 'anomaly-lab/io';
import { listCheckpointSteps } from 'anomaly-lab/runs';
import type { TrainOptions } from 'anomaly-lab/training';
import { COLUMN_MAP, ESS, JECHEON_COLUMNS, log, mean, REPO, WORKSHOP_MODEL, type TransferArgs } from './protocol';
import type { Round3Budget, Round3Cell, Round3Results, Round3Run, TransferResults } from './results';

/**
 * The rule by which round 3's figures chose RECOMMENDED_TRANSFER.max_steps / .estimation and
 * SCRATCH_ESTIMATION (rendered as written; the lead states it before the choice is read off).
 */
export const ROUND3_RULE =
  'Stated at 10:10 UTC, after folds 0 and 1 of the 3,200-step runs, the 2,400-step runs and the three 2,400-step strategy ' +
  'candidates (seed 91, folds 0 and 1) had been read, and before any fold-2 figure: the budget is the summary step of the ' +
  '3,200-step runs with the highest transfer mean F1 over every selection pair (3 folds × 2 seeds), each pair at the EWMA that ' +
  'is best for transfer over all pairs at that step; a smaller step within 0.01 of it wins (workshop time). Each arm records ' +
  'the EWMA that is best for it over all pairs at the chosen step (ties to the lighter smoothing). The strategy stays ' +
  'embedding:50,all: at 2,400 steps (seed 91, folds 0 and 1) it scored 0.691, an embedding+head stage of 400 steps 0.698 ' +
  '(within noise, one more setting), LoRA rank 8 0.646, layer-wise decay 0.5 0.634. The transfer − scratch margin is ' +
  'reported, not optimised: no budget or strategy was chosen for it.';

export const ROUND3 = {
  racks: ['jecheon/data_1_20220517.csv', 'jecheon/data_2_20220517.csv'],
  /** Validation draws of fold f: these + 10·f. */
  drawSeeds: [7001, 7002, 7003],
  synth: { anomalies: 12, minLengthFraction: 0.0005, maxLengthFraction: 0.02 },
  folds: [0, 1, 2],
  /** Fold 2: the share of each rack's day it trains on (the rest validates). */
  split: 0.6,
  foldTwoDrawSeeds: [7001, 7002],
  /** EWMA weights of the models' scores / of the first-difference baseline's (0 = raw). */
  ewma: [0, 0.8, 0.9, 0.95],
  fdEwma: [0, 0.5, 0.8],
  /** Estimation stride of every checkpoint (what the recipes record). */
  stride: 16,
  /** Training options of both arms (window_sliding 16 as the scoring; onnx engine, one thread per run). */
  common: { lr: 1e-3, batch_size: 16, white_noising: 0.15, replacing_rate_max: 0.5, window_sliding: 16, engine: 'onnx', threads: 1 },
  dir: 'round3',
};

/** Where `--round3` writes: run directories and the per-run JSON files (explore.cjs used /tmp/r3/{runs,results}). */
export const round3Dirs = (out: string): { runs: string; results: string } => ({
  runs: path.join(out, ROUND3.dir, 'runs'),
  results: path.join(out, ROUND3.dir, 'results'),
});

const f1Of = (scores: ArrayLike<number>, labels: Uint8Array): number => prepareMetrics(scores, labels).sweep({ pointAdjust: false }).f1;

/** One arm × seed × fold: train on one 05-17 rack, score every checkpoint on the other rack's draws. */
export async function round3Run(
  arm: 'transfer' | 'scratch',
  seed: number,
  fold: number,
  steps: number,
  summary: number,
  extra: Partial<TrainOptions>,
  tag: string,
  source: string,
  dirs: { runs: string; results: string },
): Promise<Round3Run> {
  const validF = ROUND3.racks[1 - (fold % 2)];
  const cols = JECHEON_COLUMNS;
  const C = cols.length;
  const label = `${tag} ${arm} s${seed} f${fold}`;
  const cut = (x: Series, a: number, b: number): Series => ({
    source: x.source,
    columns: x.columns,
    length: b - a,
    values: x.values.slice(a * C, b * C),
  });
  // Both racks once: folds 0 / 1 train on one and validate on the other, fold 2 cuts both.
  const full: Series[] = [];
  for (const f of ROUND3.racks) full.push(await loadSeries(path.join(ESS, f), { columns: cols }));
  const train =
    fold === 2
      ? concatSeries(
          full.map((x) => cut(x, 0, Math.floor(x.length * ROUND3.split))),
          { segments: true },
        )
      : full[fold % 2];
  const out = path.join(dirs.runs, tag, `${arm}-s${seed}-f${fold}`);
  fs.rmSync(out, { recursive: true, force: true });
  const common = { ...ROUND3.common, seed, max_steps: steps, summary_steps: summary, ...extra } as Partial<TrainOptions>;
  const options: Partial<TrainOptions> =
    arm === 'scratch' ? { ...common, ...WORKSHOP_MODEL } : { ...common, checkpoint: source, column_map: COLUMN_MAP };
  const t0 = Date.now();
  const res = await trainAnomalyBert({ train, out, options, log: () => {}, onSummary: () => undefined });
  log(`${label}: trained ${res.finalStep} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  // Validation sets in the run's scaled space (clipped to [0, 1]); the baseline's statistics from the
  // training rack scaled the same way (not clipped), as explore.cjs does.
  const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { scaler: { min: number[]; max: number[] } };
  const sc = cfg.scaler;
  const valids = fold === 2 ? full.map((x) => cut(x, Math.floor(x.length * ROUND3.split), x.length)) : [full[1 - (fold % 2)]];
  const trScaled = new Float32Array(train.values.length);
  for (let i = 0; i < train.length; i++)
    for (let c = 0; c < C; c++) trScaled[i * C + c] = (train.values[i * C + c] - sc.min[c]) / (sc.max[c] - sc.min[c]);
  const stats = fitBaselineStats(trScaled, C, cols);
  const sets: Array<ReturnType<typeof synthesizeTestSet> & { length: number }> = [];
  for (const [vi, raw] of valids.entries()) {
    const scaled = new Float32Array(raw.values.length);
    for (let i = 0; i < raw.length; i++)
      for (let c = 0; c < C; c++)
        scaled[i * C + c] = Math.min(1, Math.max(0, (raw.values[i * C + c] - sc.min[c]) / (sc.max[c] - sc.min[c])));
    for (const ds of fold === 2 ? ROUND3.foldTwoDrawSeeds : ROUND3.drawSeeds)
      sets.push({
        ...synthesizeTestSet(
          { source: validF, columns: cols, length: raw.length, values: scaled },
          { seed: ds + 10 * fold + 100 * vi, ...ROUND3.synth },
        ),
        length: raw.length,
      });
  }
  const result: Round3Run = { arm, seed, fold, tag, extra, fd: {}, steps: {} };
  // the baseline's scores once per draw, then each EWMA weight on them
  const fds = sets.map((s) => firstDifferenceBaseline(s.values, C, stats));
  for (const w of ROUND3.fdEwma) result.fd[w] = sets.map((s, k) => f1Of(w ? ewmaSmooth(fds[k], w) : fds[k], s.labels));
  for (const step of listCheckpointSteps(out)) {
    const { model } = await loadCheckpoint(path.join(out, 'state', `step_${step}`));
    const r: Record<string, number[]> = {};
    for (const s of sets) {
      const scores = await estimateScores(model, s.values, s.length, { batchSize: 16, windowSliding: ROUND3.stride });
      for (const w of ROUND3.ewma) (r[w] ??= []).push(f1Of(w ? ewmaSmooth(scores, w) : scores, s.labels));
    }
    model.dispose();
    result.steps[step] = r;
    log(
      `${label}: step ${step}: ${Object.entries(r)
        .map(([w, v]) => `ewma${w} ${mean(v).toFixed(4)}`)
        .join(' ')}`,
    );
  }
  fs.mkdirSync(dirs.results, { recursive: true });
  fs.writeFileSync(path.join(dirs.results, `${tag}-${arm}-s${seed}-f${fold}.json`), JSON.stringify(result));
  log(
    `${label}: fd: ${Object.entries(result.fd)
      .map(([w, v]) => `ewma${w} ${mean(v).toFixed(4)}`)
      .join(' ')}`,
  );
  return result;
}

/** `--round3`: every budget × arm × seed × fold of this process (one process per arm on two cores), then aggregate. */
export async function round3(a: TransferArgs, results: TransferResults): Promise<void> {
  const dirs = round3Dirs(a.out);
  for (const budget of a.budgets) {
    const tag = a.round3Tag ?? `b${budget}`;
    for (const fold of a.folds)
      for (const seed of a.selectSeeds)
        for (const arm of a.arms as Array<'transfer' | 'scratch'>)
          await round3Run(arm, seed, fold, budget, a.summary, a.extra, tag, a.source as string, dirs);
  }
  results.round3 = round3Aggregate(readRound3Dir(dirs.results), path.relative(REPO, dirs.results), 'ts');
}

/**
 * The per-run JSON files of a results directory (explore.cjs's or this module's), without the
 * faithfulness check's tiny runs (tag 'smoke'): they are not part of the round.
 */
export function readRound3Dir(dir: string): Round3Run[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Round3Run)
    .filter((r) => r.tag !== 'smoke');
}

const pairKey = (r: Round3Run): string => `${r.seed}/f${r.fold}`;
const lastStep = (r: Round3Run): number => Math.max(...Object.keys(r.steps).map(Number));

/**
 * Per budget (a run's last step; runs of other tags with the same budget are kept apart by tag), per
 * summary step, per EWMA: mean F1 per arm and per seed×fold pair (each the mean of its 3 draws),
 * transfer − scratch per pair, and the baseline's means.
 */
export function round3Aggregate(runs: Round3Run[], from: string, ranWith: 'js' | 'ts'): Round3Results {
  const budgets: Record<string, Round3Budget> = {};
  const tags = [...new Set(runs.map((r) => r.tag))];
  for (const tag of tags) {
    const rs = runs.filter((r) => r.tag === tag).sort((x, y) => x.seed - y.seed || x.fold - y.fold || x.arm.localeCompare(y.arm));
    const budget = Math.max(...rs.map(lastStep));
    const stepList = [...new Set(rs.flatMap((r) => Object.keys(r.steps).map(Number)))].sort((x, y) => x - y);
    const ewmas = [...new Set(rs.flatMap((r) => Object.values(r.steps).flatMap((s) => Object.keys(s))))].sort((x, y) => +x - +y);
    const steps: Record<string, Record<string, Round3Cell>> = {};
    for (const st of stepList) {
      steps[st] = {};
      for (const w of ewmas) {
        const per = (arm: string): Record<string, number> =>
          Object.fromEntries(rs.filter((r) => r.arm === arm && r.steps[st]?.[w]).map((r) => [pairKey(r), mean(r.steps[st][w])]));
        const t = per('transfer');
        const s = per('scratch');
        const diff = Object.fromEntries(
          Object.keys(t)
            .filter((k) => k in s)
            .map((k) => [k, t[k] - s[k]]),
        );
        steps[st][w] = {
          transfer: mean(Object.values(t)),
          scratch: mean(Object.values(s)),
          transfer_pairs: t,
          scratch_pairs: s,
          diff_pairs: diff,
          diff_mean: mean(Object.values(diff)),
        };
      }
    }
    // The baseline does not depend on the arm or the seed: one figure per fold (the mean of its draws), then over folds.
    const fdEwmas = [...new Set(rs.flatMap((r) => Object.keys(r.fd)))].sort((x, y) => +x - +y);
    const fd: Round3Budget['fd'] = {};
    for (const w of fdEwmas) {
      const folds: Record<string, number> = {};
      for (const f of [...new Set(rs.map((r) => r.fold))].sort()) {
        const r0 = rs.find((r) => r.fold === f && r.fd[w]);
        if (r0) folds[`f${f}`] = mean(r0.fd[w]);
      }
      fd[w] = { mean: mean(Object.values(folds)), folds };
    }
    budgets[tag] = {
      tag,
      budget,
      summary: stepList.length > 1 ? stepList[1] - stepList[0] : budget,
      seeds: [...new Set(rs.map((r) => r.seed))].sort((x, y) => x - y),
      folds: [...new Set(rs.map((r) => r.fold))].sort(),
      arms: [...new Set(rs.map((r) => r.arm))].sort().reverse(),
      extra: rs[0].extra,
      steps,
      fd,
      runs: rs,
    };
  }
  return { from, ran_with: ranWith, protocol: ROUND3, budgets };
}

/**
 * `--round3_import <dir>`: per-run files into results.round3: the plain-JS first version's, or this
 * module's own directory (<out>/round3/results) after two `--round3` processes (one per arm) finished.
 */
export function round3Import(dir: string, results: TransferResults, out: string): void {
  const runs = readRound3Dir(dir);
  const own = path.resolve(dir) === path.resolve(round3Dirs(out).results);
  results.round3 = round3Aggregate(runs, own ? path.relative(REPO, dir) : dir, own ? 'ts' : 'js');
  log(`round 3: imported ${runs.length} runs from ${dir} (${Object.keys(results.round3.budgets).join(', ')})`);
}
