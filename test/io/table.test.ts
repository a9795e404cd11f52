/** The table layer (io/table.ts): CSV, parquet and npy through real files, dtype, and errors naming file, column and row. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCsvTable, readTable, TableError, writeTable, type WritableTable } from 'anomaly-lab/io';
import { loadPowerData } from 'anomaly-lab/power';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'table-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

// 0.1 and 1/3 are not float32 numbers; 1e300 is not even a float32 magnitude (finite only in float64)
const TABLE: WritableTable = {
  columns: ['a', 'b'],
  data: [
    [0.1, -2.5, 1 / 3],
    [1e300, 4, 5e-324],
  ],
};

describe('round trips through real files keep every float64 bit', () => {
  test.each(['csv', 'parquet', 'npy'])('.%s', async (ext) => {
    const f = path.join(tmp, `rt.${ext}`);
    await writeTable(f, TABLE);
    const t = await readTable(f);
    expect(t.columns).toEqual(ext === 'npy' ? ['col0', 'col1'] : ['a', 'b']);
    expect(t.length).toBe(3);
    expect(t.data.map((c) => c.constructor.name)).toEqual(['Float64Array', 'Float64Array']);
    expect(t.data.map((c) => Array.from(c))).toEqual(TABLE.data);
  });

  test('a time column round-trips as epoch ms (ISO text in CSV, TIMESTAMP in parquet)', async () => {
    const time = [Date.UTC(2022, 4, 10), Date.UTC(2022, 4, 10, 0, 0, 1, 250)];
    for (const ext of ['csv', 'parquet']) {
      const f = path.join(tmp, `time.${ext}`);
      await writeTable(f, { columns: ['v'], data: [[1, 2]], time });
      const t = await readTable(f);
      expect({ ext, timeColumn: t.timeColumn, time: Array.from(t.time!), v: Array.from(t.data[0]) }).toEqual({
        ext,
        timeColumn: ext === 'csv' ? 'datetime' : 'TIMESTAMP',
        time,
        v: [1, 2],
      });
    }
  });
});

describe('dtype', () => {
  test('float32 rounds each value once and checks finiteness in float32', async () => {
    const f = path.join(tmp, 'dtype.csv');
    await writeTable(f, TABLE);
    const t64 = await readTable(f, { columns: ['a'] });
    const t32 = await readTable(f, { columns: ['a'], dtype: 'float32' });
    expect(t32.data[0]).toBeInstanceOf(Float32Array);
    expect(Array.from(t32.data[0])).toEqual(Array.from(t64.data[0], Math.fround));
    expect(t32.data[0][0]).not.toBe(0.1);
    // 1e300 is a finite float64 but overflows float32: an error naming the cell, in float32 only
    await expect(readTable(f, { dtype: 'float64', columns: ['b'] })).resolves.toBeDefined();
    await expect(readTable(f, { dtype: 'float32', columns: ['b'] })).rejects.toThrow(
      `${f}: column 'b', row 1 (line 2): non-finite value 1e+300 (use nan: 'drop' or 'ffill' to accept)`,
    );
    await expect(readTable(f, { dtype: 'float16' as never })).rejects.toThrow("option dtype must be 'float32' or 'float64', got 'float16'");
  });

  test('.npy of any numeric dtype reads into the asked dtype', async () => {
    const f = path.join(tmp, 'ints.npy');
    await writeTable(
      f,
      {
        columns: ['x', 'y'],
        data: [
          [1, 2],
          [3, 4],
        ],
      },
      { dtype: 'float32' },
    );
    expect(fs.readFileSync(f).subarray(0, 80).toString('latin1')).toContain("'descr': '<f4'");
    const t = await readTable(f, { dtype: 'float32', columns: ['x', 'y'] });
    expect(t.columns).toEqual(['x', 'y']); // named positionally: a .npy has no names
    expect(t.data.map((c) => Array.from(c))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('a bad cell is one line naming file, column and row', () => {
  test('CSV: the cell text, the column, the data row and the line', async () => {
    const f = write('bad.csv', 'x,y\n1,2\n\n3,4x\n');
    const err = await readTable(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TableError);
    expect((err as Error).message).toBe(`${f}: column 'y', row 2 (line 4): '4x' is not a number`);
    expect((err as TableError).problem).toEqual({ kind: 'not-a-number', column: 'y', row: 1, line: 4, text: '4x' });
    expect((err as Error).message.split('\n')).toHaveLength(1);
  });

  test('parquet: a null names column and 0-based row; the problem keeps that it was a null', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const f = path.join(tmp, 'null.parquet');
    fs.writeFileSync(
      f,
      new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'x', data: [1.5, 2, null], type: 'DOUBLE', nullable: true }] })),
    );
    const err = await readTable(f).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${f}: column 'x', row 2 (0-based): missing or NaN value (use nan: 'drop' or 'ffill' to accept)`);
    expect((err as TableError).problem).toMatchObject({ kind: 'not-finite', column: 'x', row: 2, text: null });
    expect(Array.from((await readTable(f, { nan: 'ffill' })).data[0])).toEqual([1.5, 2, 2]);
  });

  test('a dropped row keeps its original row and line in later messages', async () => {
    const f = write('drop.csv', 'x,y\n1,\n2,5\n');
    const t = await readTable(f, { nan: 'drop' });
    expect(t.length).toBe(1);
    expect(t.rowLabel(0)).toBe('row 2 (line 3)');
  });

  test('control characters in a cell are escaped (the message stays one line)', () => {
    const err = (() => {
      try {
        return parseCsvTable('x\n"a\nb"\n', 'ctl.csv', { columns: ['x'] });
      } catch (e) {
        return e;
      }
    })();
    expect((err as Error).message).toBe("ctl.csv: column 'x', row 1 (line 2): 'a\\nb' is not a number");
  });
});

describe('the views keep their own words for the same problems', () => {
  test('power data names the row first (1-based) for a CSV cell and a parquet NaN', async () => {
    const header = 'Time,Va,Vb,Vc,Ia,Ib,Ic';
    const f = write('power.csv', `${header}\n0,1,1,1,1,1,1\n0.001,1,1,1,1,x,1\n`);
    await expect(loadPowerData(f)).rejects.toThrow(`${f}: row 2 (line 3), column 'Ib': 'x' is not a number`);
    const g = path.join(tmp, 'power.parquet');
    await writeTable(g, {
      columns: header.split(','),
      data: [
        [0, 0.5],
        [1, 1],
        [1, NaN],
        [1, 1],
        [1, 1],
        [1, 1],
        [1, 1],
      ],
    });
    await expect(loadPowerData(g)).rejects.toThrow(`${g}: row 2, column 'Vb': NaN`);
  });
});

describe('bad requests and column-less tables are one line naming the file', () => {
  const oneLine = async (p: Promise<unknown>): Promise<string> => {
    const msg = ((await p.catch((e: unknown) => e)) as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  };

  test('a column requested twice', async () => {
    const f = write('twice.csv', 'x,y\n1,2\n');
    expect(await oneLine(readTable(f, { columns: ['x', 'x'] }))).toBe(`${f}: column 'x' requested twice`);
  });

  test('a CSV without a numeric column lists its columns', async () => {
    const f = write('text.csv', 'a,b\nfoo,bar\n');
    expect(await oneLine(readTable(f))).toBe(`${f}: no numeric columns; columns: 'a', 'b'`);
  });

  test("nan: 'ffill' on a column with no finite value", async () => {
    const f = write('allnan.csv', 'x,y\nnan,1\n,2\n');
    expect(await oneLine(readTable(f, { nan: 'ffill' }))).toBe(`${f}: column 'x' has no finite value to fill from`);
  });

  test('a parquet text column asked for by name is not numeric', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const f = path.join(tmp, 'text.parquet');
    fs.writeFileSync(
      f,
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'x', data: [1, 2], type: 'DOUBLE', nullable: false },
            { name: 's', data: ['a', 'b'], type: 'STRING', nullable: false },
          ],
        }),
      ),
    );
    expect(await oneLine(readTable(f, { columns: ['x', 's'] }))).toMatch(
      new RegExp(`^${f.replace(/[.\\]/g, '\\$&')}: column 's' is not numeric \\(parquet type BYTE_ARRAY`),
    );
    expect(Array.from((await readTable(f)).data[0])).toEqual([1, 2]);
  });
});
