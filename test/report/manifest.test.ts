import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareMetrics, createManifest, readManifest, verifyInputs, writeManifest } from 'anomaly-lab/runs';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'al-manifest-'));
}

describe('run manifest', () => {
  it('records config, seed, versions, input hashes (directories expanded), metrics and outputs', async () => {
    const dir = tmpDir();
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'b.csv'), 'x\n2\n');
    fs.writeFileSync(path.join(data, 'a.csv'), 'x\n1\n');
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'history.json'), '[]');
    const written = await writeManifest(run, {
      kind: 'unit-test',
      config: { lr: 1e-4, window: new Int32Array([1, 2]), bad: NaN },
      seed: 7,
      inputs: [{ path: data, role: 'train' }],
      metrics: { f1: 0.5 },
      checkpoints: [{ path: 'state/step_1', step: 1 }],
      outputs: ['history.json', 'not-yet.json'],
    });
    const back = readManifest(run);
    expect(back).toEqual(written);
    expect(back.seed).toBe(7);
    expect(back.config).toEqual({ lr: 1e-4, window: [1, 2], bad: null });
    // Sorted by name; the hash is the file's real sha256.
    expect(back.inputs.map((i) => path.basename(i.path))).toEqual(['a.csv', 'b.csv']);
    expect(back.inputs[0].sha256).toBe(crypto.createHash('sha256').update('x\n1\n').digest('hex'));
    expect(back.inputs[0].role).toBe('train');
    expect(back.versions['anomaly-lab']).toMatch(/^\d+\.\d+\.\d+/);
    expect(back.versions['@tensorflow/tfjs']).toMatch(/^4\./);
    expect(back.versions['hyparquet']).toMatch(/^\d/); // ESM-only package found too
    expect(back.outputs[0]).toMatchObject({ path: 'history.json', bytes: 2 });
    expect(back.outputs[1].sha256).toBeUndefined();
    expect(await verifyInputs(back)).toEqual([]);
    fs.writeFileSync(path.join(data, 'b.csv'), 'x\n3\n');
    const drift = await verifyInputs(back);
    expect(drift.map((d) => path.basename(d.path))).toEqual(['b.csv']);
  });

  it('names the missing input and the broken field', async () => {
    const dir = tmpDir();
    await expect(
      createManifest(dir, { kind: 'k', config: {}, inputs: [{ path: path.join(dir, 'nope.csv'), role: 'test' }] }),
    ).rejects.toThrow(/nope\.csv' \(test\) does not exist/);
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        manifest_version: 1,
        kind: 'k',
        created: 'x',
        config: {},
        backend: {},
        versions: {},
        inputs: [],
        metrics: 3,
        checkpoints: [],
      }),
    );
    expect(() => readManifest(dir)).toThrow(/field metrics is missing or not a object/);
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{oops');
    expect(() => readManifest(dir)).toThrow(/manifest.json' is not valid JSON/);
    expect(() => readManifest(path.join(dir, 'other.json'))).toThrow(/other.json' does not exist/);
  });

  it('compares metric trees with tolerance and reports one-sided keys', () => {
    const a = { test: { with_pa: { f1: 0.8, precision: 0.7 } }, steps: [1, 2] };
    expect(compareMetrics(a, JSON.parse(JSON.stringify(a)))).toEqual([]);
    const b = { test: { with_pa: { f1: 0.8 + 1e-3, recall: 0.1 } }, steps: [1, 2] };
    const diffs = compareMetrics(a, b)
      .map((d) => d.key)
      .sort();
    expect(diffs).toEqual(['test.with_pa.f1', 'test.with_pa.precision', 'test.with_pa.recall']);
    expect(
      compareMetrics(a, b, { atol: 0.01 })
        .map((d) => d.key)
        .sort(),
    ).toEqual(['test.with_pa.precision', 'test.with_pa.recall']);
  });
});
