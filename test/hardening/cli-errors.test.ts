/**
 * One error boundary (issue 11): every refusal is one line naming the option, file or column, with
 * control characters escaped (escape codes never reach the terminal raw, a quoted newline never
 * splits the line); numeric options are range-checked at parse time; internal JavaScript errors
 * are wrapped with the inputs that led there; the long metrics loop shows progress and stops
 * cleanly on Ctrl-C; markdown and CSV writers escape class names through the one helper.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { csvCell, escapeControl, mdText, quoteName } from 'anomaly-lab/core';
import { writeNpy } from 'anomaly-lab/io';
import type { PowerAnalysis, PowerData } from 'anomaly-lab/power';
import { powerAnomaliesCsv, powerReportMarkdown, writePowerResults } from 'anomaly-lab/power';
// direct import (not the package): the CLI's own modules are its bin's internals, not part of the library API
import { errorLine } from '../../kernel-lib/src/cli/main';
import { CLI, expectCleanFailure, runCliLimited } from '../hostile/harness';
import { tinyTrainArgs, tmpRoot, writeTrainNpy } from './hardening-helpers';

const root = tmpRoot('cli');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const ESC = '\u001b';

/** No raw control character (other than the final newline) reached stderr. */
function expectNoRawControl(stderr: string): void {
  expect(stderr.replace(/\n$/, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
}

describe('names are quoted with control characters escaped', () => {
  test('a CSV header with terminal escapes and a quoted newline gives one escaped line naming file and column', async () => {
    const csv = path.join(root, 'hostile.csv');
    fs.writeFileSync(csv, `time,"evil${ESC}[2J${ESC}[31mred","two\nlines",c\n1,2,3,4\n2,3,4,5\n`);
    const r = await runCliLimited(['train', '--train', csv, '--columns', 'nope', '--out', path.join(root, 'never')]);
    const line = expectCleanFailure(r, csv);
    expectNoRawControl(r.stderr);
    expect(line).toContain("'nope'");
    expect(line).toMatch(/evil\\(u001b|x1b)\[2J/);
    expect(line).toMatch(/two\\nlines/);
  });

  test('option names, values and commands from argv are escaped too', async () => {
    const cases: Array<[string[], string]> = [
      [[`bogus${ESC}[2J`], 'unknown command'],
      [['metrics', `--x${ESC}[2J`, '1'], 'unknown option'],
      [['train', '--train', 'a', '--out', 'b', '--scale', `fit${ESC}[2J\nsecond line`], 'option --scale must be one of'],
      [['metrics', '--scores', 'a', '--labels', 'b', '--random_trials', `1${ESC}`], 'option --random_trials expects an integer'],
    ];
    for (const [args, text] of cases) {
      const r = await runCliLimited(args);
      expect(expectCleanFailure(r, text)).toContain('\\x1b');
      expectNoRawControl(r.stderr);
    }
  });

  test('the helpers', () => {
    expect(escapeControl(`a${ESC}[2J\r\n\t\u0085\u2028z`)).toBe('a\\x1b[2J\\r\\n\\t\\x85\\u2028z');
    expect(quoteName("it's\n")).toBe("'it\\'s\\n'");
    expect(quoteName('x'.repeat(500))).toBe(`'${'x'.repeat(200)}'… (500 chars)`);
    expect(mdText(`a|b\n*c*${ESC}`)).toBe('a\\|b \\*c\\*\\x1b');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('a,b\nc')).toBe('"a,b\nc"');
  });
});

describe('numeric options are range-checked', () => {
  const npy = path.join(root, 'labels.npy');
  writeNpy(npy, new Float32Array([0, 1, 0, 0]), [4]);

  test.each([
    [
      ['power', 'detect', '--data', npy, '--detector', npy, '--out', path.join(root, 'o1'), '--time_tolerance', '-1'],
      '--time_tolerance',
      /option --time_tolerance must be ≥ 0 and ≤ 1, got -1/,
    ],
    [
      ['metrics', '--scores', npy, '--labels', npy, '--random_trials', '1000000000'],
      '--random_trials',
      /option --random_trials must be ≥ 1 and ≤ 100000, got 1000000000/,
    ],
    [['metrics', '--scores', npy, '--labels', npy, '--random_trials', '0'], '--random_trials', /must be ≥ 1/],
    [
      ['train', '--train', npy, '--out', path.join(root, 'o2'), '--max_steps', '-5'],
      '--max_steps',
      /option --max_steps must be a positive integer, got -5/,
    ],
  ])('%j', async (args, option, message) => {
    const r = await runCliLimited(args as string[]);
    expect(expectCleanFailure(r, option as string)).toMatch(message as RegExp);
  });

  test('train --d_embed 1000000 is checked against memory before anything is allocated', async () => {
    const train = writeTrainNpy(path.join(root, 'train.npy'));
    const args = tinyTrainArgs(train).map((a, i, all) => (all[i - 1] === '--d_embed' ? '1000000' : a));
    const r = await runCliLimited([...args, '--out', path.join(root, 'huge')]);
    expect(expectCleanFailure(r, '--d_embed')).toMatch(
      /options --d_embed 1000000, .*training needs at least [\d.]+ GB .*more than this machine's [\d.]+ GB/,
    );
    expect(r.peakRssBytes).toBeLessThan(512 * 2 ** 20);
  });
});

describe('internal errors are wrapped with their input', () => {
  test('a RangeError names the files of the command line', () => {
    const f = path.join(root, 'labels.npy');
    const line = errorLine(new RangeError('Invalid typed array length: 10000000000'), [
      '--data',
      f,
      '--out',
      path.join(root, 'x'),
      '--lr',
      '1',
    ]);
    expect(line).toBe(
      `internal error (RangeError: Invalid typed array length: 10000000000) while processing --data '${f}'; please report it with that input`,
    );
    expect(errorLine(new Error(`bad${ESC}[2J\nnext`))).toBe('bad\\x1b[2J\\nnext');
  });
});

describe('long loops', () => {
  test('metrics --random_trials shows progress on stderr and stops cleanly on Ctrl-C', async () => {
    const n = 40000;
    const scores = new Float32Array(n);
    const labels = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      scores[i] = Math.sin(i / 7) ** 2;
      labels[i] = i % 1000 < 30 ? 1 : 0;
    }
    const s = path.join(root, 's.npy');
    const l = path.join(root, 'l.npy');
    writeNpy(s, scores, [n]);
    writeNpy(l, labels, [n]);
    const child = spawn(process.execPath, [CLI, 'metrics', '--scores', s, '--labels', l, '--random_trials', '100000', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && !/random baseline draw \d+\/100000/.test(stderr)) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toMatch(/metrics: random baseline draw \d+\/100000\n/);
    const sent = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(code).toBe(130);
    expect(stderr).toMatch(/metrics: interrupted after \d+ of 100000 random draws; the baseline averages those/);
    const report = JSON.parse(stdout);
    expect(report.input.random_trials).toBeGreaterThan(0);
    expect(report.input.random_trials).toBeLessThan(100000);
    expect(report.random_with_pa.f1).toBeGreaterThan(0);
  });
});

describe('power outputs escape class names (the shared helper)', () => {
  const hostile = [`LG|x`, `=cmd|' /C calc'!A0`, `two\nlines`, `red${ESC}[31m`, '`code`'];
  const n = hostile.length;
  const analysis: PowerAnalysis = {
    source: 'gen',
    params: { sequence_length: 4, percentile: 95, max_gap_samples: 1 },
    sampleTime: 0.001,
    detection: {
      mse: new Float64Array(n),
      threshold: 0.5,
      flags: new Uint8Array(n),
      windowStart: new Float64Array(n),
      windowEnd: new Float64Array(n),
      intervals: [],
      sequenceLength: 4,
      percentile: 95,
    } as PowerAnalysis['detection'],
    mergedIntervals: hostile.map((_, i) => [i, i + 0.5] as [number, number]),
    features: [],
    predictions: hostile.map((c, i) => ({
      start_time: i,
      end_time: i + 0.5,
      predicted_fault: c,
      confidence: 0.9,
      proba: [],
    })) as PowerAnalysis['predictions'],
    classes: hostile,
  };
  const data: PowerData = {
    source: `data|${ESC}.csv`,
    length: 3,
    time: Float64Array.from([0, 0.001, 0.002]),
    signals: Array.from({ length: 6 }, () => new Float64Array(3)),
    sampleTime: 0.001,
  };

  test('report.md keeps one table row per interval, with no raw markup or control characters', () => {
    const md = powerReportMarkdown(analysis, data, { models: { detector: 'm`x`|.h5' } });
    expectNoRawControl(md.replace(/\n/g, ' '));
    const rows = md.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect(rows).toHaveLength(n);
    for (const r of rows) expect(r.split(/(?<!\\)\|/).length).toBe(8); // 6 cells between 7 unescaped pipes
    expect(md).toContain('LG\\|x');
    expect(md).toContain('two lines');
    expect(md).toContain('red\\x1b\\[31m');
    expect(md).not.toContain('`code`');
  });

  test('anomalies.csv has one row per interval, quoted, with formulas neutralised', () => {
    const csv = powerAnomaliesCsv(analysis);
    const dir = path.join(root, 'power');
    writePowerResults(dir, analysis, data);
    expect(fs.readFileSync(path.join(dir, 'anomalies.csv'), 'utf8')).toBe(csv);
    expect(csv).toContain(`,'=cmd|' /C calc'!A0,`);
    expect(csv).toContain('"two\nlines"');
    expect(csv).toContain(',red\\x1b[31m,');
    expectNoRawControl(csv.replace(/\n/g, ' '));
    // A CSV parser sees exactly n data rows of 5 fields.
    const records = parseCsv(csv);
    expect(records).toHaveLength(n + 1);
    for (const rec of records) expect(rec).toHaveLength(5);
    expect(records.slice(1).map((r) => r[3])).toEqual(
      hostile.map((c) => escapeControl(c.startsWith('=') ? `'${c}` : c).replace('\\n', '\n')),
    );
  });
});

/** RFC 4180 reader for the assertion above (quoted fields, doubled quotes, newlines inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}
