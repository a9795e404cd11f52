/**
 * Rounds 1 and 2 of the transfer protocol: the selection on jecheon 05-17, the held-out report
 * (both arms, 5 seeds), the source on held-out panli days, and the estimation-time round.
 */
import * as path from 'path';
import { loadCheckpoint, estimateScores } from 'anomaly-lab';
import { fitBaselineStats, type BaselineCombine } from 'anomaly-lab/evaluation';
import { MinMaxScaler } from 'anomaly-lab/io';
import { RECOMMENDED_TRANSFER } from 'anomaly-lab/training';
import {
  baselineRows,
  bestF1,
  bestOf,
  CANDIDATES,
  COLUMN_MAP,
  concat,
  conditions,
  EST_COMBINE,
  EST_SMOOTHING,
  EST_STRIDES,
  EVAL_SLIDING,
  fdScores,
  finalModelScores,
  JECHEON_COLUMNS,
  loadResults,
  log,
  mean,
  PANLI_COLUMNS,
  PANLI_HELD_OUT,
  PANLI_SOURCE_DAYS,
  REPO,
  REPORT_TEST,
  REPORT_TRAIN,
  runArm,
  saveResults,
  SELECT_TRAIN,
  SELECT_VALID,
  settingKey,
  smoothed,
  testSets,
  type TransferArgs,
} from './protocol';
import type { EstArm, EstCandidate, EstReportRun, EstSetting, PanliResults, RunRecord, TransferResults } from './results';

export async function estimationSelect(a: TransferArgs, results: TransferResults): Promise<void> {
  const train = await concat(SELECT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const trainScaled = scaler.transform(train.values, 2);
  const [set] = await testSets(SELECT_VALID, JECHEON_COLUMNS, scaler, trainScaled, 3001);
  const stats = fitBaselineStats(trainScaled, 2, JECHEON_COLUMNS);
  const arms: Record<string, EstArm> = {};
  for (const [arm, dirs] of Object.entries(a.estRuns)) {
    const grid: Array<{ setting: EstSetting; f1: number[] }> = [];
    for (const stride of EST_STRIDES) for (const smoothing of EST_SMOOTHING) grid.push({ setting: { stride, smoothing }, f1: [] });
    for (const dir of dirs) {
      for (const stride of EST_STRIDES) {
        const t0 = Date.now();
        const scores = await finalModelScores(dir, set.values, set.length, stride);
        for (const g of grid) if (g.setting.stride === stride) g.f1.push(bestF1(smoothed(scores, g.setting.smoothing), set.labels, false));
        log(`  est-select ${arm} ${path.basename(dir)} stride ${stride}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
    const best = bestOf(grid);
    arms[arm] = {
      runs: dirs,
      grid: grid.map((g) => ({ setting: g.setting, f1: g.f1, mean: mean(g.f1) })),
      chosen: best.setting,
      chosen_f1: mean(best.f1),
    };
    log(`  est-select ${arm}: chosen ${settingKey(best.setting)} → ${mean(best.f1).toFixed(4)}`);
  }
  const fdGrid: Array<{ setting: EstSetting; f1: number[] }> = [];
  for (const combine of EST_COMBINE) {
    const scores = fdScores(set, stats, combine);
    for (const smoothing of EST_SMOOTHING)
      fdGrid.push({ setting: { combine, smoothing }, f1: [bestF1(smoothed(scores, smoothing), set.labels, false)] });
  }
  const fdBest = bestOf(fdGrid);
  arms['first-difference'] = {
    grid: fdGrid.map((g) => ({ setting: g.setting, f1: g.f1, mean: mean(g.f1) })),
    chosen: fdBest.setting,
    chosen_f1: mean(fdBest.f1),
  };
  // One entry per training candidate (its runs, steps and extra options); the report takes the best transfer entry.
  const candidates: Record<string, EstCandidate> = {
    ...(results.estimation?.select?.candidates ?? {}),
    [a.estName]: { steps: a.steps, extra: a.extra, arms, finished: new Date().toISOString() },
  };
  // Only candidates with both arms can be chosen (the comparison is at equal steps); a transfer-only entry is information.
  const complete = Object.entries(candidates).filter(([, c]) => c.arms.transfer && c.arms.scratch);
  const chosen = complete.length
    ? complete.reduce((x, y) => (y[1].arms.transfer.chosen_f1 > x[1].arms.transfer.chosen_f1 ? y : x))[0]
    : undefined;
  results.estimation = {
    ...results.estimation,
    select: {
      validation: SELECT_VALID,
      train: SELECT_TRAIN,
      strides: EST_STRIDES,
      smoothing: EST_SMOOTHING,
      combine: EST_COMBINE,
      candidates,
      chosen,
    },
  };
}

export async function estimationReport(a: TransferArgs, results: TransferResults): Promise<void> {
  const sel = results.estimation?.select;
  if (!sel?.chosen) throw new Error('--estimation_report needs the --estimation_select results first (results.estimation.select)');
  if (sel.chosen !== a.estName) throw new Error(`--est_name: the selection chose '${sel.chosen}', not '${a.estName}'`);
  const chosen = sel.candidates[sel.chosen].arms;
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const trainScaled = scaler.transform(train.values, 2);
  const sets = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, trainScaled, 5001);
  const stats = fitBaselineStats(trainScaled, 2, JECHEON_COLUMNS);
  const fdSet: EstSetting = chosen['first-difference'].chosen;
  const baseline = sets.map((s) => ({
    set: s.name,
    f1: bestF1(smoothed(fdScores(s, stats, fdSet.combine as BaselineCombine), fdSet.smoothing), s.labels, false),
  }));
  const runs: EstReportRun[] = [];
  const estimation = (results.estimation ??= {});
  for (const seed of a.seeds) {
    for (const arm of ['transfer', 'scratch']) {
      const setting: EstSetting = chosen[arm].chosen;
      const dir = path.join(a.estRuns.report?.[0] ?? path.join(a.out, 'report'), `${arm}-s${seed}`);
      const f1: number[] = [];
      for (const s of sets)
        f1.push(
          bestF1(smoothed(await finalModelScores(dir, s.values, s.length, setting.stride as number), setting.smoothing), s.labels, false),
        );
      runs.push({ arm, seed, run_dir: path.relative(REPO, dir), f1 });
      log(`  est-report ${arm} s${seed} (${settingKey(setting)}): ${mean(f1).toFixed(4)}`);
      estimation.report = { partial: true, runs, baseline };
    }
  }
  estimation.report = {
    candidate: a.estName,
    steps: a.steps,
    extra: sel.candidates[sel.chosen].extra,
    test: REPORT_TEST,
    seeds: a.seeds,
    runs,
    baseline,
    conditions: conditions(),
    finished: new Date().toISOString(),
  };
}

export async function select(a: TransferArgs, results: TransferResults, file: string): Promise<void> {
  const train = await concat(SELECT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const sets = await testSets(SELECT_VALID, JECHEON_COLUMNS, scaler, scaler.transform(train.values, 2), 3001);
  const seeds = a.quick ? [91] : a.selectSeeds;
  // Runs of an earlier selection process (other candidates or seeds) are kept.
  const runs: RunRecord[] = (results.select?.runs ?? []).filter(
    (r: RunRecord) => !(a.candidates.includes(r.arm) && seeds.includes(r.seed)),
  );
  for (const name of a.candidates) {
    for (const seed of seeds) {
      runs.push(await runArm(name, CANDIDATES[name], seed, train, sets, { ...a, mode: 'select' }, a.source as string));
      results.select = { ...(results.select ?? {}), runs, partial: true };
      saveResults(file, results);
    }
  }
  const names = Object.keys(CANDIDATES).filter((n) => runs.some((r) => r.arm === n));
  const table = names.map((name) => {
    const rs = runs.filter((r) => r.arm === name);
    const finals = rs.map((r) => mean(r.steps[r.steps.length - 1].f1));
    return { candidate: name, options: CANDIDATES[name], final_f1: finals, mean_final_f1: mean(finals) };
  });
  const transferOnly = table.filter((t) => t.candidate !== 'scratch' && t.candidate !== 'reinit-embedding');
  const best = transferOnly.reduce((x, y) => (y.mean_final_f1 > x.mean_final_f1 ? y : x), transferOnly[0]);
  results.select = {
    train: SELECT_TRAIN,
    validation: SELECT_VALID,
    seeds: [...new Set(runs.map((r) => r.seed))],
    steps: a.steps,
    extra: a.extra,
    baselines: baselineRows(sets),
    table,
    chosen: best?.candidate,
    runs,
    conditions: conditions(),
    finished: new Date().toISOString(),
  };
  saveResults(file, results);
  log(`selection: ${table.map((t) => `${t.candidate} ${t.mean_final_f1.toFixed(4)}`).join('; ')} → ${best?.candidate}`);
}

export async function report(a: TransferArgs, results: TransferResults, file: string): Promise<void> {
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const sets = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, scaler.transform(train.values, 2), 5001);
  // Runs of the other arm trained by another process (same data, seeds and steps), read again at every save.
  const mine: RunRecord[] = [];
  const merged = (): RunRecord[] => [
    ...(a.merge ? (loadResults(a.merge).report?.runs ?? []).filter((x) => !a.arms.includes(x.arm)) : []),
    ...mine,
  ];
  let runs = merged();
  for (const seed of a.seeds) {
    // Default recipe = only --checkpoint and --column_map: what `anomaly-lab train` applies by default.
    if (a.arms.includes('transfer'))
      mine.push(await runArm('transfer', { column_map: COLUMN_MAP }, seed, train, sets, { ...a, mode: 'report' }, a.source as string));
    if (a.arms.includes('scratch'))
      mine.push(await runArm('scratch', 'scratch', seed, train, sets, { ...a, mode: 'report' }, a.source as string));
    runs = merged();
    results.report = { partial: true, runs };
    saveResults(file, results);
  }
  results.report = {
    train: REPORT_TRAIN,
    test: REPORT_TEST,
    seeds: a.seeds,
    steps: a.steps,
    summary: a.summary,
    recipe: RECOMMENDED_TRANSFER,
    extra: a.extra,
    baselines: baselineRows(sets),
    runs,
    conditions: conditions(),
    finished: new Date().toISOString(),
  };
  if (a.arms.includes('transfer')) results.panli = await panli(a.source as string);
  saveResults(file, results);
}

/** The source model on held-out panli days vs the first-difference baseline (no PA). */
export async function panli(source: string): Promise<PanliResults> {
  const loaded = await loadCheckpoint(source);
  const scaler = MinMaxScaler.fromJSON(loaded.scaler);
  const train = await concat(
    PANLI_SOURCE_DAYS.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
  );
  const sets = await testSets(
    PANLI_HELD_OUT.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
    scaler,
    scaler.transform(train.values, PANLI_COLUMNS.length),
    7001,
  );
  const rows = [];
  for (const s of sets) {
    const scores = await estimateScores(loaded.model, s.values, s.length, { batchSize: 16, windowSliding: EVAL_SLIDING });
    rows.push({ set: s.name, model_f1: bestF1(scores, s.labels, false), fd_f1: bestF1(s.fd, s.labels, false) });
  }
  loaded.model.dispose();
  return { source: path.relative(REPO, source), step: loaded.meta.step, days: PANLI_HELD_OUT, rows };
}
