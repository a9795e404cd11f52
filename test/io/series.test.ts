import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  loadSeries,
  sliceSeries,
  concatSeries,
  writeCsv,
  writeParquet,
  parseTimestamp,
  parseUtcOffset,
  selectColumns,
  MinMaxScaler,
  writeNpy,
} from 'anomaly-lab/io';
import { describeShared, sharedPath } from '../helpers/shared';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'series-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

describeShared('real ESS parquet files', () => {
  const PANLI_COLS = ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'];

  test('one panli-clean day: 86,400 rows at 1 Hz, int64-ns timestamps, scaled values', async () => {
    const s = await loadSeries(sharedPath('data/ess/panli-clean/20220412.parquet'), { columns: PANLI_COLS });
    expect(s.length).toBe(86400);
    expect(s.columns).toEqual(PANLI_COLS);
    expect(s.values.length).toBe(86400 * 5);
    expect(s.timeColumn).toBe('TIMESTAMP');
    const t = s.time as Float64Array;
    expect(new Date(t[0]).toISOString()).toBe('2022-04-11T15:00:00.000Z'); // 2022-04-12 00:00 +09:00
    let irregular = 0;
    for (let i = 1; i < t.length; i++) if (t[i] - t[i - 1] !== 1000) irregular++;
    expect(irregular).toBe(0);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of s.values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
  });

  test('default columns: every numeric non-time column (VOLTAGE_GAP_CURVE included)', async () => {
    const s = await loadSeries(sharedPath('data/ess/panli-clean/20220419.parquet'));
    expect(s.columns).toEqual([...PANLI_COLS, 'VOLTAGE_GAP_CURVE']);
  });

  test('directory: 8 days sorted by name and concatenated, with segments', async () => {
    const s = await loadSeries(sharedPath('data/ess/panli-clean'), { columns: ['BANK_SOC'] });
    expect(s.length).toBe(8 * 86400);
    expect(s.segments?.map((g) => path.basename(g.file))).toEqual(fs.readdirSync(sharedPath('data/ess/panli-clean')).sort());
    expect(s.segments?.[3]).toMatchObject({ start: 3 * 86400, length: 86400 });
    const t = s.time as Float64Array;
    expect(t[86400] - t[86399]).toBeGreaterThan(1000); // a day boundary: days are not contiguous
  });

  test('raw bank file: text timestamps with +09:00, int64 flags, engineering units', async () => {
    const s = await loadSeries(sharedPath('data/ess/panli-bank-raw-20220510.parquet'), {
      columns: ['BANK_DC_VOLT', 'MAX_CELL_VOLTAGE_OF_BANK', 'RACK_OVER_TEMPERATURE_WARNING'],
    });
    expect(new Date((s.time as Float64Array)[0]).toISOString()).toBe('2022-05-09T15:00:00.000Z');
    expect(s.values[0]).toBeCloseTo(805.2, 3);
    expect(s.values[1]).toBeCloseTo(3.376, 5);
    expect([0, 1]).toContain(s.values[2]);
  });

  test('missing column: the error names the file and lists available columns', async () => {
    await expect(loadSeries(sharedPath('data/ess/panli-clean/20220412.parquet'), { columns: ['BANK_SOC', 'NOPE'] })).rejects.toThrow(
      /20220412\.parquet: column 'NOPE' not found; available columns: 'TIMESTAMP', 'BANK_DC_VOLT', .*'VOLTAGE_GAP_CURVE'/,
    );
  });

  test('a text column cannot be selected as a value column', async () => {
    await expect(
      loadSeries(sharedPath('data/ess/panli-bank-raw-20220510.parquet'), { columns: ['MASTER_RACK_COMMUNICATION_FAULT'] }),
    ).rejects.toThrow(/column 'MASTER_RACK_COMMUNICATION_FAULT' is not numeric/);
  });
});

describeShared('real jecheon CSV files', () => {
  test('text column state is skipped by default; directory of 4 files', async () => {
    const one = await loadSeries(sharedPath('data/ess/jecheon/data_1_20220517.csv'));
    expect(one.columns).toEqual(['voltage', 'current', 'dischargeAh']);
    expect(one.timeColumn).toBe('datetime');
    expect(new Date((one.time as Float64Array)[0]).toISOString()).toBe('2022-05-17T10:27:28.000Z');
    const kst = await loadSeries(sharedPath('data/ess/jecheon/data_1_20220517.csv'), { utcOffset: '+09:00' });
    expect(new Date((kst.time as Float64Array)[0]).toISOString()).toBe('2022-05-17T01:27:28.000Z');
    const all = await loadSeries(sharedPath('data/ess/jecheon'), { columns: ['voltage', 'current'] });
    expect(all.segments).toHaveLength(4);
    expect(all.length).toBe(all.segments?.reduce((s, g) => s + g.length, 0));
    expect(all.values[all.segments![2].start * 2]).toBeCloseTo(15.20203, 4); // first row of data_2_20220517.csv
  });

  test('selecting the text column is an error naming file, column and row', async () => {
    await expect(loadSeries(sharedPath('data/ess/jecheon/data_1_20220517.csv'), { columns: ['voltage', 'state'] })).rejects.toThrow(
      /data_1_20220517\.csv: column 'state', row 1 \(line 2\): 'standby' is not a number/,
    );
  });
});

describe('CSV parsing', () => {
  test('quoted fields, escaped quotes, CRLF, embedded newline, BOM', async () => {
    const f = write('q.csv', '\ufefftime,"a, b",note,c\r\n0,1.5,"he said ""hi""",2\r\n1,-2e-3,"two\nlines",3\r\n');
    const s = await loadSeries(f, { columns: ['a, b', 'c'], timeColumn: 'time' });
    expect(Array.from(s.values)).toEqual([1.5, 2, Math.fround(-2e-3), 3]);
    expect(Array.from(s.time as Float64Array)).toEqual([0, 1]); // numeric time column kept as is
  });

  test('bad number, ragged row, unterminated quote, empty file', async () => {
    await expect(loadSeries(write('b1.csv', 'x,y\n1,2\n3,abc\n'), { columns: ['x', 'y'] })).rejects.toThrow(
      /b1\.csv: column 'y', row 2 \(line 3\): 'abc' is not a number/,
    );
    await expect(loadSeries(write('b2.csv', 'x,y\n1,2\n3\n'))).rejects.toThrow(/b2\.csv: line 3 has 1 fields, the header has 2/);
    await expect(loadSeries(write('b3.csv', 'x,y\n1,"2\n'))).rejects.toThrow(/b3\.csv: unterminated quoted field starting on line 2/);
    await expect(loadSeries(write('b4.csv', ''))).rejects.toThrow(/b4\.csv: empty CSV/);
    await expect(loadSeries(write('b5.csv', 'x,x\n1,2\n'))).rejects.toThrow(/b5\.csv: duplicate column name 'x'/);
    await expect(loadSeries(write('b6.csv', 'time,x\nyesterday,1\n'))).rejects.toThrow(
      /b6\.csv: time column 'time', row 1 \(line 2\): cannot parse 'yesterday'/,
    );
  });

  test('NaN / inf / empty cells: error by default with file, column, row; drop and ffill', async () => {
    const f = write('n.csv', 'x,y\n1,10\n2,\n3,NaN\n4,inf\n5,50\n');
    await expect(loadSeries(f)).rejects.toThrow(/n\.csv: column 'y', row 2 \(line 3\): missing or NaN value/);
    const dropped = await loadSeries(f, { nan: 'drop' });
    expect(Array.from(dropped.values)).toEqual([1, 10, 5, 50]);
    const filled = await loadSeries(f, { nan: 'ffill' });
    expect(Array.from(filled.values)).toEqual([1, 10, 2, 10, 3, 10, 4, 10, 5, 50]);
    const lead = await loadSeries(write('lead.csv', 'x\n\n'.replace('\n\n', '\nnan\n7\n')), { nan: 'ffill' });
    expect(Array.from(lead.values)).toEqual([7, 7]);
    await expect(loadSeries(f, { nan: 'zero' as never })).rejects.toThrow(/option nan must be/);
  });

  test('writeCsv → loadSeries round trip with time', async () => {
    const f = path.join(tmp, 'rt.csv');
    const time = [Date.UTC(2022, 0, 1), Date.UTC(2022, 0, 1, 0, 0, 1)];
    writeCsv(f, { columns: ['a', 'b,c'], values: [1, 2, 3.5, -4], time, timeColumn: 'datetime' });
    const s = await loadSeries(f);
    expect(s.columns).toEqual(['a', 'b,c']);
    expect(Array.from(s.values)).toEqual([1, 2, 3.5, -4]);
    expect(Array.from(s.time as Float64Array)).toEqual(time);
  });
});

describe('parquet and npy round trips, directories, errors', () => {
  test('writeParquet → loadSeries', async () => {
    const f = path.join(tmp, 'rt.parquet');
    const time = [Date.UTC(2022, 4, 10), Date.UTC(2022, 4, 10, 0, 0, 1), Date.UTC(2022, 4, 10, 0, 0, 2)];
    await writeParquet(f, { columns: ['v', 'i'], values: [1, 2, 3, 4, 5, 6], time });
    const s = await loadSeries(f);
    expect(s.columns).toEqual(['v', 'i']);
    expect(Array.from(s.values)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(s.time as Float64Array)).toEqual(time);
    expect(Array.from(selectColumns(s, ['i']).values)).toEqual([2, 4, 6]);
  });

  test('parquet NaN and null cells: error names file, column and row; ffill repairs them', async () => {
    const f = path.join(tmp, 'nan.parquet');
    await writeParquet(f, { columns: ['a', 'b'], values: [1, 2, 3, NaN, 5, 6] });
    await expect(loadSeries(f)).rejects.toThrow(/nan\.parquet: column 'b', row 1 \(0-based\): missing or NaN value/);
    expect(Array.from((await loadSeries(f, { nan: 'ffill' })).values)).toEqual([1, 2, 3, 2, 5, 6]);
    // a real parquet null (OPTIONAL column without a value)
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const g = path.join(tmp, 'null.parquet');
    fs.writeFileSync(
      g,
      new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'x', data: [1.5, null, 2.5], type: 'DOUBLE', nullable: true }] })),
    );
    await expect(loadSeries(g)).rejects.toThrow(/null\.parquet: column 'x', row 1 \(0-based\): missing or NaN value/);
    expect(Array.from((await loadSeries(g, { nan: 'drop' })).values)).toEqual([1.5, 2.5]);
    await expect(loadSeries(g, { timeColumn: 'TIMESTAMP' })).rejects.toThrow(
      /null\.parquet: time column 'TIMESTAMP' not found; available columns: 'x'/,
    );
  });

  test('npy: 2-D columns are col0.., 1-D is one column; 3-D is rejected', async () => {
    const f2 = path.join(tmp, 'two.npy');
    writeNpy(f2, new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    const s = await loadSeries(f2, { columns: ['col1'] });
    expect(Array.from(s.values)).toEqual([2, 4, 6]);
    const f1 = path.join(tmp, 'one.npy');
    writeNpy(f1, new Float64Array([7, 8]));
    expect((await loadSeries(f1)).columns).toEqual(['col0']);
    // names for every column are positional (a .npy has none); a wrong count is an error
    const named = await loadSeries(f2, { columns: ['volt', 'amp'] });
    expect(named.columns).toEqual(['volt', 'amp']);
    expect(Array.from(named.values)).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(loadSeries(f2, { columns: ['volt', 'amp', 'soc'] })).rejects.toThrow(
      /two\.npy: a \.npy has no column names; 3 columns \('volt', 'amp', 'soc'\) were requested but it has 2/,
    );
    const f3 = path.join(tmp, 'three.npy');
    writeNpy(f3, new Float32Array(8), [2, 2, 2]);
    await expect(loadSeries(f3)).rejects.toThrow(/three\.npy: expected a 1-D .* got shape \(2, 2, 2\)/);
  });

  test('directory whose second file lacks a column names that file', async () => {
    const dir = path.join(tmp, 'dir');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.csv'), 'x,y\n1,2\n');
    fs.writeFileSync(path.join(dir, 'b.csv'), 'x\n3\n');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    await expect(loadSeries(dir)).rejects.toThrow(/b\.csv: column 'y' not found; available columns: 'x'/);
    fs.writeFileSync(path.join(dir, 'b.csv'), 'y,x\n4,3\n'); // column order may differ between files
    const s = await loadSeries(dir);
    expect(Array.from(s.values)).toEqual([1, 2, 3, 4]);
  });

  test('missing path, unsupported type, corrupt parquet', async () => {
    await expect(loadSeries(path.join(tmp, 'nope.csv'))).rejects.toThrow(/nope\.csv: no such file or directory/);
    await expect(loadSeries(write('x.txt', 'a'))).rejects.toThrow(/x\.txt: unsupported file type '\.txt'/);
    await expect(loadSeries(write('bad.parquet', 'not parquet at all'))).rejects.toThrow(/bad\.parquet: not a readable parquet file/);
  });

  test('parseTimestamp: zones, no zone = UTC, numeric passthrough', () => {
    expect(parseTimestamp('2022-05-10 00:00:00+09:00')).toBe(Date.UTC(2022, 4, 9, 15));
    expect(parseTimestamp('2022-05-10T00:00:00.250Z')).toBe(Date.UTC(2022, 4, 10, 0, 0, 0, 250));
    expect(parseTimestamp('2022-05-10 01:02:03')).toBe(Date.UTC(2022, 4, 10, 1, 2, 3));
    expect(parseTimestamp('2022-05-10 01:02:03+0900')).toBe(Date.UTC(2022, 4, 9, 16, 2, 3));
    expect(parseTimestamp('0.00005')).toBe(0.00005);
    expect(Number.isNaN(parseTimestamp('soon'))).toBe(true);
    expect(Number.isNaN(parseTimestamp('May 10, 2022'))).toBe(true); // locale formats would depend on the machine
    expect(parseTimestamp('2022/05/10 09:00:00')).toBe(Date.UTC(2022, 4, 10, 9));
    // zone-less text at a given offset; explicit zones win
    expect(parseTimestamp('2022-05-10 09:00:00', parseUtcOffset('+09:00'))).toBe(Date.UTC(2022, 4, 10, 0));
    expect(parseTimestamp('2022-05-10 09:00:00Z', parseUtcOffset('+09:00'))).toBe(Date.UTC(2022, 4, 10, 9));
    expect(parseUtcOffset('-0530')).toBe(-330);
    expect(() => parseUtcOffset('KST')).toThrow(/utcOffset must look like '\+09:00', got 'KST'/);
    expect(Number.isNaN(parseTimestamp('2022-02-30 00:00:00'))).toBe(true);
    expect(Number.isNaN(parseTimestamp('2022-13-01'))).toBe(true);
    // the fast path agrees with Date.parse on ISO text with zones and fractions
    for (const iso of ['2022-05-10T23:59:59.123-05:30', '2021-12-31T00:00:00+14:00', '2022-05-10T10:00Z', '2022-05-10']) {
      expect(parseTimestamp(iso)).toBe(Date.parse(iso.length === 10 ? iso + 'T00:00:00Z' : iso));
    }
  });
});

describe('MinMaxScaler', () => {
  const series = { source: 'train', columns: ['a', 'b', 'k'], length: 3, values: new Float32Array([0, 10, 5, 5, 20, 5, 10, 30, 5]) };

  test('fit / transform / inverse; constant column maps to 0; out-of-range kept unless clipped', () => {
    const sc = MinMaxScaler.fit(series);
    expect(Array.from(sc.min)).toEqual([0, 10, 5]);
    expect(Array.from(sc.max)).toEqual([10, 30, 5]);
    expect(Array.from(sc.transform(series.values, 3))).toEqual([0, 0, 0, 0.5, 0.5, 0, 1, 1, 0]);
    expect(Array.from(sc.transform([20, 0, 5], 3))).toEqual([2, -0.5, 0]);
    expect(Array.from(sc.transform([20, 0, 5], 3, { clip: true }))).toEqual([1, 0, 0]);
    expect(Array.from(sc.inverseTransform(sc.transform(series.values, 3), 3))).toEqual(Array.from(series.values));
  });

  test('JSON round trip (as stored in checkpoints) and validation', () => {
    const sc = MinMaxScaler.fit(series);
    const back = MinMaxScaler.fromJSON(JSON.parse(JSON.stringify(sc)));
    expect(back.columns).toEqual(['a', 'b', 'k']);
    expect(Array.from(back.transform([5, 25, 1], 3))).toEqual(Array.from(sc.transform([5, 25, 1], 3)));
    expect(() => MinMaxScaler.fromJSON({ min: [0] })).toThrow(/fromJSON: expected/);
    expect(() => MinMaxScaler.fromJSON({ kind: 'standard', min: [0], max: [1] })).toThrow(/kind 'standard'/);
    expect(() => sc.transform([1, 2], 2)).toThrow(/data have 2 columns, the scaler was fitted on 3 \(a, b, k\)/);
    expect(() => MinMaxScaler.fit({ ...series, values: new Float32Array([0, NaN, 1, 1, 1, 1, 1, 1, 1]) })).toThrow(
      /non-finite value at row 0, column 'b'/,
    );
    expect(() => sc.transformSeries({ columns: ['b', 'a', 'k'], values: series.values })).toThrow(/differ from the fitted columns/);
  });
});

describe('sliceSeries', () => {
  const series = {
    source: 'two-days',
    columns: ['a', 'b'],
    length: 6,
    values: Float32Array.from([0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15]),
    time: Float64Array.from([100, 101, 102, 103, 104, 105]),
    timeColumn: 'TIMESTAMP',
    segments: [
      { file: 'day1.parquet', start: 0, length: 4 },
      { file: 'day2.parquet', start: 4, length: 2 },
    ],
  };

  test('cuts values and time together and clips file segments to the range', () => {
    const s = sliceSeries(series, 3, 6);
    expect(s.length).toBe(3);
    expect(Array.from(s.values)).toEqual([3, 13, 4, 14, 5, 15]);
    expect(Array.from(s.time!)).toEqual([103, 104, 105]);
    expect(s.timeColumn).toBe('TIMESTAMP');
    expect(s.segments).toEqual([
      { file: 'day1.parquet', start: 0, length: 1 },
      { file: 'day2.parquet', start: 1, length: 2 },
    ]);
    s.values[0] = -1;
    expect(series.values[6]).toBe(3); // a copy, not a view
  });

  test('a range outside the series names the source', () => {
    expect(() => sliceSeries(series, 4, 7)).toThrow(/two-days: row range \[4, 7\) is outside the series \(0\.\.6\)/);
    expect(() => sliceSeries(series, 3, 2)).toThrow(/row range/);
  });
});

describe('concatSeries', () => {
  const part = (source: string, rows: number[][], time?: number[]) => ({
    source,
    columns: ['a', 'b'],
    length: rows.length,
    values: Float32Array.from(rows.flat()),
    ...(time ? { time: Float64Array.from(time) } : {}),
  });

  test('joins rows end to end, one segment per part, time only when every part has it', () => {
    const s = concatSeries([
      part(
        '/d/day1.csv',
        [
          [1, 2],
          [3, 4],
        ],
        [0, 1],
      ),
      part('/d/day2.csv', [[5, 6]], [2]),
    ]);
    expect(s.source).toBe('day1.csv+day2.csv');
    expect(s.length).toBe(3);
    expect(Array.from(s.values)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(s.time ?? [])).toEqual([0, 1, 2]);
    expect(s.segments).toEqual([
      { file: '/d/day1.csv', start: 0, length: 2 },
      { file: '/d/day2.csv', start: 2, length: 1 },
    ]);
    const bare = concatSeries([part('x', [[1, 2]], [0]), part('y', [[3, 4]])], { segments: false });
    expect(bare.time).toBeUndefined();
    expect(bare.segments).toBeUndefined();
  });

  test('refuses parts whose columns differ, naming the part', () => {
    expect(() => concatSeries([part('x', [[1, 2]]), { ...part('y.csv', [[3, 4]]), columns: ['a', 'c'] }])).toThrow(/y\.csv.*a,c/);
    expect(() => concatSeries([])).toThrow(/no series/);
  });
});
