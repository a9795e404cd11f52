/**
 * Issue 14: a transfer-learning protocol that cannot flatter us.
 *
 *   npm run build:lib && tools/experiments/run.sh transfer --source <panli run dir> --select   # choose settings on jecheon 05-17 only
 *   tools/experiments/run.sh transfer --source <panli run dir> --report                        # held-out days, 5 seeds, both arms
 *   tools/experiments/run.sh transfer --source <panli run dir> --confirm --arms transfer       # the pre-registered confirmatory run (one process per arm)
 *   tools/experiments/run.sh transfer --confirm_merge                                          # merge its processes, render
 *   tools/experiments/run.sh transfer --source <panli run dir> --round3 --budgets 1600,2400,3200 --arms transfer  # round 3 (05-17 only)
 *   tools/experiments/run.sh transfer --round3_import /tmp/r3/results                         # round 3's runs made by the plain-JS version
 *   tools/experiments/run.sh transfer --source <panli run dir> --confirm2 --arms transfer      # session 5's pre-registered confirmatory run
 *   tools/experiments/run.sh transfer --confirm2_merge
 *   tools/experiments/run.sh transfer --render runs/experiments/transfer/results.json
 *
 * Settings are chosen on jecheon 2022-05-17 only (train rack 1, validate on rack 2 with synthetic
 * anomalies, two selection seeds that the report does not use). The report trains on both racks of
 * 05-17 and evaluates on 05-18, 05-23 and 05-24 (both racks each); the source model is evaluated on
 * panli days it did not train on. Every number in the generated docs section comes from the
 * results.json written here.
 *
 * This file: the command line and main; the shared protocol in protocol.ts, rounds 1–2 in rounds.ts,
 * the confirmatory evaluation in confirm.ts, rendering in render.ts, the results' types in results.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { defineOptions, UsageError } from 'anomaly-lab/core';
import type { TrainOptions } from 'anomaly-lab/training';
import { toolArgs } from '../../common/args';
import { confirm, CONFIRM_PLANS, confirmMerge } from './confirm';
import { CANDIDATES, loadResults, log, REPO, saveResults, type TransferArgs } from './protocol';
import { writeDocs } from './render';
import { round3, round3Import } from './round3';
import { estimationReport, estimationSelect, report, select } from './rounds';

const TRANSFER = {
  name: 'transfer',
  usage: 'tools/experiments/run.sh transfer --source <panli run dir> --select|--report|--confirm|… [options] | --render <results.json>',
  summary:
    'Issue 14 transfer protocol: selection on jecheon 05-17, held-out report (5 seeds, both arms), the estimation-time round, the pre-registered confirmatory run; renders the docs/experiments.md section.',
  specs: defineOptions({
    select: { kind: 'boolean', default: false, help: 'train the selection candidates on jecheon 05-17 (validation only)' },
    report: { kind: 'boolean', default: false, help: 'train both arms on 05-17 and score them on the held-out days' },
    estimation_select: { kind: 'boolean', default: false, help: 'round 2: estimation grid of finished selection runs (--est_runs)' },
    estimation_report: { kind: 'boolean', default: false, help: 'round 2: the chosen candidate on the held-out days, once' },
    confirm: { kind: 'boolean', default: false, help: 'the pre-registered confirmatory evaluation (one process per --arms)' },
    confirm_merge: { kind: 'boolean', default: false, help: "merge the confirmatory processes' results into --results and render" },
    confirm2: { kind: 'boolean', default: false, help: "session 5's pre-registered confirmatory evaluation (one process per --arms)" },
    confirm2_merge: { kind: 'boolean', default: false, help: "merge confirm2's processes' results into --results and render" },
    round3: {
      kind: 'boolean',
      default: false,
      help: 'round 3: budgets × --arms × --select_seeds × --folds on jecheon 05-17 (one rack trains, the other validates)',
    },
    round3_import: {
      kind: 'string',
      help: "round 3: read this directory's per-run JSON files (the plain-JS version's) into --results and render",
    },
    budgets: { kind: 'list', default: ['1600', '2400', '3200'], help: 'round 3: training steps per run (one tag b<steps> each)' },
    folds: {
      kind: 'list',
      default: ['0', '1', '2'],
      help: 'round 3: folds (0: train rack 1, validate rack 2; 1: the other way; 2: both racks, first 60% / last 40%)',
    },
    round3_summary: { kind: 'int', default: 400, min: 1, help: 'round 3: summary (scored checkpoint) every N steps' },
    round3_tag: { kind: 'string', help: 'round 3: tag of the per-run files (default b<budget>)' },
    render: { kind: 'string', help: 're-render the docs section from this results.json (no training)' },
    out: { kind: 'string', default: 'runs/experiments/transfer', help: 'directory of the run (results.json, run directories)' },
    results: { kind: 'string', help: 'results.json to read and extend (default: <out>/results.json)' },
    source: { kind: 'string', help: 'the source (panli) run directory or checkpoint; needed to train' },
    seeds: { kind: 'list', default: ['1', '2', '3', '4', '5'], help: 'training seeds of the report' },
    steps: { kind: 'int', default: 400, min: 1, help: 'training steps per arm' },
    summary: { kind: 'int', default: 100, min: 1, help: 'summary (checkpoint) every N steps' },
    candidates: { kind: 'list', default: Object.keys(CANDIDATES), help: 'selection candidates to train' },
    select_seeds: { kind: 'list', default: ['91', '92'], help: 'seeds of the selection runs (never used by the report)' },
    arms: { kind: 'list', default: ['transfer', 'scratch'], help: 'arms this process trains (report, confirm)' },
    merge: { kind: 'string', help: 'results.json of another process whose report runs (other arms) are merged in' },
    reuse: { kind: 'boolean', default: false, help: 'reuse finished run directories (score again, no training)' },
    est_name: { kind: 'string', default: 'default', help: 'round 2: name of the training candidate' },
    est_runs: { kind: 'list', default: [], help: 'round 2: arm=dir1:dir2 per arm (selection runs), or report=<report run dir>' },
    extra: { kind: 'string', default: '{}', help: 'training options (JSON) given to every arm on top of the shared ones' },
    quick: { kind: 'boolean', default: false, help: 'smoke run: 2 seeds, 20 steps (confirm: 1 seed, 20 steps), no docs' },
    docs: { kind: 'boolean', default: true, help: 'write the docs section (--no_docs: results.json only)' },
  }),
};

/** The options as the protocol's functions take them. */
function transferArgs(argv: string[]): TransferArgs {
  const { options: o } = toolArgs(TRANSFER, argv);
  const modes = (
    [
      'select',
      'report',
      'estimation_select',
      'estimation_report',
      'confirm',
      'confirm_merge',
      'confirm2',
      'confirm2_merge',
      'round3',
    ] as const
  ).filter((m) => o[m]);
  if (modes.length + (o.render !== undefined ? 1 : 0) + (o.round3_import !== undefined ? 1 : 0) > 1)
    throw new UsageError(`give one of --${modes.join(', --')}${o.render ? ', --render' : ''}${o.round3_import ? ', --round3_import' : ''}`);
  const mode: TransferArgs['mode'] =
    modes[0] === 'estimation_select'
      ? 'est-select'
      : modes[0] === 'estimation_report'
        ? 'est-report'
        : modes[0] === 'confirm_merge'
          ? 'confirm-merge'
          : modes[0] === 'confirm2_merge'
            ? 'confirm2-merge'
            : (modes[0] ?? (o.round3_import !== undefined ? 'round3-import' : 'render'));
  const unknown = o.candidates.find((c) => !(c in CANDIDATES));
  if (unknown) throw new UsageError(`--candidates: unknown '${unknown}' (known: ${Object.keys(CANDIDATES).join(', ')})`);
  const estRuns: Record<string, string[]> = {};
  for (const part of o.est_runs) {
    const [arm, dirs] = part.split('=');
    if (!dirs) throw new UsageError(`--est_runs: expected arm=dir1:dir2, got '${part}'`);
    estRuns[arm] = dirs.split(':');
  }
  const ints = (name: string, xs: string[]): number[] =>
    xs.map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n)) throw new UsageError(`--${name}: '${x}' is not an integer`);
      return n;
    });
  const a: TransferArgs = {
    mode,
    out: o.out,
    source: o.source,
    seeds: ints('seeds', o.seeds),
    steps: o.steps,
    summary: o.summary,
    candidates: o.candidates,
    results: o.render ?? o.results,
    quick: o.quick,
    arms: o.arms,
    merge: o.merge,
    noDocs: !o.docs,
    selectSeeds: ints('select_seeds', o.select_seeds),
    reuse: o.reuse,
    estRuns,
    extra: JSON.parse(o.extra) as Partial<TrainOptions>,
    estName: o.est_name,
    budgets: ints('budgets', o.budgets),
    folds: ints('folds', o.folds),
    round3Tag: o.round3_tag,
    round3Import: o.round3_import,
  };
  if (mode === 'round3') a.summary = o.round3_summary;
  const badFold = a.folds.find((f) => f !== 0 && f !== 1 && f !== 2);
  if (badFold !== undefined) throw new UsageError(`--folds: '${badFold}' is not a fold (0, 1 or 2)`);
  const badArm = a.arms.find((x) => x !== 'transfer' && x !== 'scratch');
  if (badArm !== undefined) throw new UsageError(`--arms: unknown '${badArm}' (known: transfer, scratch)`);
  if (a.round3Import !== undefined && !fs.statSync(a.round3Import, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--round3_import: '${a.round3Import}' is not a directory (of round 3's per-run JSON files)`);
  if (a.quick) {
    a.seeds = a.seeds.slice(0, 2);
    a.steps = 20;
    a.summary = 10;
  }
  return a;
}

async function main(): Promise<void> {
  const a = transferArgs(process.argv.slice(2));
  const file = a.results ?? path.join(a.out, 'results.json');
  const results = loadResults(file);
  results.results_file = path.relative(REPO, file);
  const merging = a.mode === 'confirm-merge' || a.mode === 'confirm2-merge' || a.mode === 'round3-import';
  if (a.mode !== 'render') {
    if (!a.source && !merging) throw new UsageError('--source <panli run dir or checkpoint> is required to train');
    // Round 3 keeps the library's default backend, as the plain-JS version that made the lead's runs.
    if (a.mode !== 'round3' && a.mode !== 'round3-import') await initBackend({ backend: 'wasm', logger: log });
    if (a.mode === 'select') await select(a, results, file);
    else if (a.mode === 'est-select') await estimationSelect(a, results);
    else if (a.mode === 'est-report') await estimationReport(a, results);
    else if (a.mode === 'confirm') return await confirm(CONFIRM_PLANS.confirm, a);
    else if (a.mode === 'confirm-merge') confirmMerge(CONFIRM_PLANS.confirm, results, a.quick);
    else if (a.mode === 'confirm2') return await confirm(CONFIRM_PLANS.confirm2, a);
    else if (a.mode === 'confirm2-merge') confirmMerge(CONFIRM_PLANS.confirm2, results, a.quick);
    else if (a.mode === 'round3') await round3(a, results);
    else if (a.mode === 'round3-import') round3Import(a.round3Import as string, results, a.out);
    else await report(a, results, file);
    if (merging || a.mode === 'est-select' || a.mode === 'est-report' || a.mode === 'round3') saveResults(file, results);
  }
  if (a.quick || a.noDocs) return log(`results in ${file}; docs not written (--quick / --no_docs)`);
  writeDocs(results);
  log(`wrote docs/experiments.md section from ${file}`);
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`transfer: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`transfer experiment: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
