/**
 * The viewer data contract on the producer side: compact arrays round-trip bit-exactly, the schema
 * file on disk is the one the code validates with, builders produce valid bundles from real
 * fixtures, and bad bundles fail with messages naming the field.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';
import {
  VIEWER_MIME,
  base64ToBytes,
  buildViewerBundle,
  bytesToBase64,
  decodeViewerArray,
  decodeViewerBundle,
  encodeViewerArray,
  parseViewerBundle,
  trainingViewerBundle,
  validateViewerBundle,
  viewerBundleToJSON,
  viewerSchemaV1,
  createRng,
} from 'anomaly-lab/core';
import { REPO_ROOT, describeShared } from '../helpers/shared';
import { anomalyBertBundleFromFixture, anomalyBertFixture, loadPowerFixture, powerBundleFromFixture } from './bundles';

const SCHEMA_FILE = path.join(REPO_ROOT, 'schema/viewer.v1.schema.json');
// kernel-lib's own ajv (v8); the root node_modules holds eslint's ajv 6.
const Ajv = createRequire(path.join(REPO_ROOT, 'kernel-lib/package.json'))('ajv').default as new (opts: object) => {
  compile(schema: object): (data: unknown) => boolean;
};

describe('compact typed-array encoding', () => {
  test('base64 matches Node for every tail length and random bytes', () => {
    const rng = createRng(11);
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, () => rng.int(0, 256));
      const ours = bytesToBase64(bytes);
      expect(ours).toBe(Buffer.from(bytes).toString('base64'));
      expect(Array.from(base64ToBytes(ours))).toEqual(Array.from(bytes));
    }
  });

  test('all dtypes round-trip bit-exactly, including NaN and infinities', () => {
    const f32 = Float32Array.from([0, -0, 1.5, NaN, Infinity, -Infinity, 3.4e38, 1e-45]);
    const f64 = Float64Array.from([Math.PI, -1e308, 5e-324, NaN]);
    const i32 = Int32Array.from([-2147483648, 2147483647, 0, -1]);
    const u8 = Uint8Array.from([0, 1, 255]);
    for (const arr of [f32, f64, i32, u8]) {
      const back = decodeViewerArray(JSON.parse(JSON.stringify(encodeViewerArray(arr))));
      expect(back.constructor).toBe(arr.constructor);
      expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(arr.buffer))).toBe(true);
    }
  });

  test('corrupt data is rejected naming the field', () => {
    expect(() => decodeViewerArray({ dtype: 'float32', shape: [3], encoding: 'base64', data: 'AAAA' }, '/scores/values')).toThrow(
      /\/scores\/values: 3 bytes do not hold shape \[3\] of float32/,
    );
    expect(() => base64ToBytes('AA$A', '/labels')).toThrow(/\/labels: invalid base64 character at offset 2/);
    expect(() => encodeViewerArray(new Float32Array(6), [4, 2])).toThrow(/shape \[4, 2\] holds 8 values but the array has 6/);
  });
});

describe('schema/viewer.v1.schema.json', () => {
  test('the file on disk is the schema the code validates with (regenerate: node extension/scripts/write-viewer-schema.js)', () => {
    expect(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(JSON.parse(JSON.stringify(viewerSchemaV1)));
  });
});

describeShared('builders on real fixtures', () => {
  test('AnomalyBERT bundle: scores and labels survive JSON, validate against the schema file', () => {
    const { scores, labels } = anomalyBertFixture();
    const bundle = anomalyBertBundleFromFixture(0.05);
    const text = viewerBundleToJSON(bundle);
    // an independent validator on the file on disk (what a non-TypeScript producer would use)
    const ajv = new Ajv({ allErrors: true, strictTypes: false });
    const validateFile = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));
    expect(validateFile(JSON.parse(text))).toBe(true);
    const decoded = decodeViewerBundle(parseViewerBundle(text));
    expect(decoded.scores).toEqual(scores);
    expect(decoded.labels).toEqual(labels);
    expect(decoded.bundle.threshold).toMatchObject({ mode: 'rate', rate: 0.05, pointAdjust: true });
    // compact: base64 of float32 is ~1.4 bytes per byte, far below a JSON number list
    expect(text.length).toBeLessThan(JSON.stringify(Array.from(scores)).length / 2);
  });

  test('power bundle: series, window-aligned MSE and classified intervals', () => {
    const f = loadPowerFixture();
    const decoded = decodeViewerBundle(parseViewerBundle(viewerBundleToJSON(powerBundleFromFixture(f))));
    expect(decoded.columns).toEqual(['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic']);
    expect(decoded.length).toBe(f.time.length);
    expect(decoded.values).toEqual(f.values);
    expect(decoded.x).toEqual(f.time);
    expect(decoded.scores?.length).toBe(f.time.length - f.expected.params.sequence_length + 1);
    // window i spans Time[i] … Time[i + 49], as in the seed's detect_anomalies
    const w = f.expected.params.sequence_length;
    expect(decoded.scoreXEnd?.[10]).toBe(f.time[10 + w - 1]);
    expect(decoded.bundle.intervals?.map((r) => r.fault)).toEqual(f.expected.predictions.map((p) => p.predicted_fault));
    expect(decoded.bundle.threshold).toMatchObject({ mode: 'percentile', percentile: 95, maxGapSamples: 1500 });
  });
});

describe('bad bundles fail with a message naming the field', () => {
  const series = { columns: ['a', 'b'], values: new Float32Array([1, 2, 3, 4, 5, 6]) };

  test('series values that do not fill the columns', () => {
    expect(() => buildViewerBundle({ title: 't', series: { columns: ['a', 'b'], values: new Float32Array(5) } })).toThrow(
      /series\.values: 5 values do not make 2 rows × 2 columns \(a, b\)/,
    );
  });
  test('labels of the wrong length', () => {
    expect(() => buildViewerBundle({ title: 't', series, scores: { values: [0.1, 0.2, 0.3] }, labels: [0, 1] })).toThrow(
      /\/labels: 2 labels for 3 scores/,
    );
  });
  test('point scores of the wrong length', () => {
    expect(() => buildViewerBundle({ title: 't', series, scores: { values: [0.1, 0.2] } })).toThrow(
      /\/scores\/values: 2 point scores for a series of length 3/,
    );
  });
  test('window scores that do not fit', () => {
    expect(() => buildViewerBundle({ title: 't', series, scores: { values: [1, 2], alignment: 'window', windowSize: 3 } })).toThrow(
      /2 windows of 3 rows do not fit a series of length 3/,
    );
  });
  test('schema violations name the path', () => {
    const good = buildViewerBundle({ title: 't', series, scores: { values: [0.1, 0.2, 0.3] } });
    const bad = JSON.parse(JSON.stringify(good));
    bad.threshold.rate = 2;
    bad.extra = 1;
    const v = validateViewerBundle(bad);
    expect(v.valid).toBe(false);
    expect(v.errors.join('\n')).toMatch(/\/threshold\/rate: must be < 1/);
    expect(v.errors.join('\n')).toMatch(/must NOT have additional properties "extra"/);
  });
  test('strings that are not JSON, wrong MIME, arrays', () => {
    expect(() => parseViewerBundle('{"mime": ', 'results.anomaly.json')).toThrow(/results\.anomaly\.json: not valid JSON/);
    expect(() => parseViewerBundle({ mime: 'application/vnd.other+json' })).toThrow(
      /unsupported bundle type "application\/vnd\.other\+json"/,
    );
    expect(() => parseViewerBundle([])).toThrow(/got an array/);
  });
  test('intervals out of order', () => {
    expect(() => buildViewerBundle({ title: 't', series, intervals: [{ start: 5, end: 2 }] })).toThrow(
      /\/intervals\/0: end 2 is before start 5/,
    );
  });
});

describe('training history and hostile names', () => {
  test('NaN metrics travel as null; names are kept verbatim as text', () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const b = trainingViewerBundle({
      title: evil,
      history: [
        { step: 0, loss: 0.7, accuracy: 0.5, test: { with_pa: { anomaly_rate: 0.01, precision: NaN, recall: 0, f1: NaN, ess_score: 0 } } },
        { step: 100, loss: 0.3, accuracy: 0.9 },
      ],
      finished: false,
    });
    const back = parseViewerBundle(viewerBundleToJSON(b));
    expect(back.mime).toBe(VIEWER_MIME);
    expect(back.title).toBe(evil);
    expect(back.training?.history[0].test?.with_pa?.precision).toBeNull();
    expect(() => trainingViewerBundle({ history: [{ step: -1 }] })).toThrow(/training\.history\[0\]\.step/);
  });
});
