/** The one label validator (kernel-lib/src/browser/labels.ts) every label reader goes through. */
import { FieldError, assertBinaryLabels, buildViewerBundle, decodeViewerBundle, toBinaryLabels } from 'anomaly-lab/core';
// direct import (not the package): the CLI's own modules are its bin's internals, not part of the library API
import { cliMessage } from '../../kernel-lib/src/cli/args';

describe('binary labels', () => {
  test('0/1 of any numeric type become bytes', () => {
    expect(toBinaryLabels([0, 1, 1, 0])).toEqual(Uint8Array.from([0, 1, 1, 0]));
    expect(toBinaryLabels(BigInt64Array.from([1n, 0n]))).toEqual(Uint8Array.from([1, 0]));
    expect(toBinaryLabels(Float32Array.from([1, 0]))).toEqual(Uint8Array.from([1, 0]));
  });

  test('anything else names what, the value and its position', () => {
    expect(() => assertBinaryLabels([0, 2])).toThrow(/^labels must be 0\/1, found 2 at index 1$/);
    expect(() => toBinaryLabels([0, 0, 0.5], { what: 'l.npy', position: 'row' })).toThrow(
      /^l\.npy: labels must be 0\/1, found 0\.5 at row 2$/,
    );
    expect(() => toBinaryLabels([NaN], { what: 'x' })).toThrow(/found NaN at index 0/);
  });

  test('given a field, the error is a FieldError the CLI renders as the flag', () => {
    let e: unknown;
    try {
      toBinaryLabels([1, -1], { field: 'testLabels', what: 't.npy', position: 'row' });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(FieldError);
    expect((e as Error).message).toBe("'testLabels' t.npy: labels must be 0/1, found -1 at row 1");
    expect(cliMessage(e)).toBe('--test_label t.npy: labels must be 0/1, found -1 at row 1');
  });

  test('the viewer bundle builder and decoder use it too (no silent 0.5 → 1)', () => {
    const scores = Float32Array.from([0.1, 0.9, 0.2]);
    const ok = buildViewerBundle({ kind: 'anomalybert', title: 't', scores: { values: scores }, labels: Float64Array.from([0, 1, 0]) });
    expect(Array.from(decodeViewerBundle(ok).labels!)).toEqual([0, 1, 0]);
    let e: unknown;
    try {
      buildViewerBundle({ kind: 'anomalybert', title: 't', scores: { values: scores }, labels: [0, 0.5, 0] });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(FieldError);
    expect((e as Error).message).toBe("'labels': labels must be 0/1, found 0.5 at index 1");
    // a bundle written elsewhere with a label 2 is refused when decoded, naming the field's path
    expect(() => decodeViewerBundle({ ...ok, labels: [0, 2, 0] })).toThrow(/^\/labels: labels must be 0\/1, found 2 at index 1$/);
  });
});
