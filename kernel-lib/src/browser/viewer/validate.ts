/**
 * Validation of viewer bundles: the JSON Schema (ajv) plus the cross-field rules a schema cannot
 * express (array lengths agree with each other, intervals are ordered). Both sides use it: the
 * builders before handing a bundle out, the renderer before drawing one.
 */
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { arrayFieldLength, decodeArray, decodeFloat32, decodeFloat64, isEncodedArray } from './encoding';
import { toBinaryLabels } from '../labels';
import { viewerSchemaV1 } from './schema';
import { VIEWER_MIME, type ArrayField, type DecodedBundle, type IntervalRow, type ViewerBundle } from './types';

let compiled: ValidateFunction | null = null;

function schemaValidator(): ValidateFunction {
  if (!compiled) {
    // strictTypes off: `const`/`enum` without `type` are deliberate in the schema.
    const ajv = new Ajv({ allErrors: true, strictTypes: false });
    compiled = ajv.compile(viewerSchemaV1);
  }
  return compiled;
}

export interface BundleValidation {
  valid: boolean;
  /** human-readable problems, each naming the field (JSON pointer), at most 20. */
  errors: string[];
}

function checkIntervals(rows: IntervalRow[] | undefined, field: string, length: number | null, errors: string[]): void {
  if (!rows) return;
  rows.forEach((r, i) => {
    if (!(r.end >= r.start)) errors.push(`/${field}/${i}: end ${r.end} is before start ${r.start}`);
    if (r.startIndex !== undefined && r.endIndex !== undefined && r.endIndex < r.startIndex) {
      errors.push(`/${field}/${i}: endIndex ${r.endIndex} is before startIndex ${r.startIndex}`);
    }
    if (length !== null && r.endIndex !== undefined && r.endIndex > length) {
      errors.push(`/${field}/${i}: endIndex ${r.endIndex} is beyond the series length ${length}`);
    }
  });
}

function fieldCount(field: ArrayField): number {
  return isEncodedArray(field) ? field.shape.reduce((a, b) => a * b, 1) : field.length;
}

/** An encoded array whose bytes do not match its dtype and shape is an error here, not at drawing time. */
function checkDecodable(field: ArrayField | undefined, pointer: string, errors: string[]): void {
  if (field === undefined || !isEncodedArray(field)) return;
  try {
    decodeArray(field, pointer);
  } catch (e) {
    errors.push((e as Error).message.split('\n')[0]);
  }
}

/** Cross-field rules; assumes the schema already passed. */
function semanticErrors(b: ViewerBundle): string[] {
  const errors: string[] = [];
  checkDecodable(b.series?.values, '/series/values', errors);
  checkDecodable(b.scores?.values, '/scores/values', errors);
  checkDecodable(b.axis?.time, '/axis/time', errors);
  checkDecodable(b.labels, '/labels', errors);
  if (errors.length) return errors;
  const n = b.series ? b.series.length : null;
  if (b.series) {
    const c = b.series.columns.length;
    const have = fieldCount(b.series.values);
    if (have !== b.series.length * c) {
      errors.push(`/series/values: holds ${have} values, expected length ${b.series.length} × ${c} columns = ${b.series.length * c}`);
    }
    if (b.series.units && b.series.units.length !== c) errors.push(`/series/units: ${b.series.units.length} units for ${c} columns`);
  }
  const nScores = b.scores ? arrayFieldLength(b.scores.values) : null;
  if (b.scores && n !== null) {
    if (b.scores.alignment === 'point' && nScores !== n) {
      errors.push(`/scores/values: ${nScores} point scores for a series of length ${n}`);
    }
    if (b.scores.alignment === 'window') {
      const w = b.scores.windowSize;
      if (w === undefined) errors.push('/scores/windowSize: required when alignment is "window"');
      else if ((nScores as number) + w - 1 > n) {
        errors.push(`/scores/values: ${nScores} windows of ${w} rows do not fit a series of length ${n}`);
      }
    }
  }
  if (b.scores && n === null && b.scores.alignment === 'window' && b.scores.windowSize === undefined) {
    errors.push('/scores/windowSize: required when alignment is "window"');
  }
  if (b.axis?.time !== undefined) {
    const want = n ?? nScores;
    const have = fieldCount(b.axis.time);
    if (want !== null && have !== want) errors.push(`/axis/time: ${have} values for ${want} rows`);
  }
  if (b.labels !== undefined) {
    if (nScores === null) errors.push('/labels: labels need scores to be aligned with');
    else if (fieldCount(b.labels) !== nScores) errors.push(`/labels: ${fieldCount(b.labels)} labels for ${nScores} scores`);
  }
  if (b.featureImportances && b.featureImportances.names.length !== b.featureImportances.values.length) {
    errors.push(`/featureImportances: ${b.featureImportances.names.length} names for ${b.featureImportances.values.length} values`);
  }
  checkIntervals(b.intervals, 'intervals', n, errors);
  checkIntervals(b.labelledIntervals, 'labelledIntervals', n, errors);
  return errors;
}

/** Validate a parsed bundle against the schema and the cross-field rules. */
export function validateViewerBundle(bundle: unknown): BundleValidation {
  const validate = schemaValidator();
  if (!validate(bundle)) {
    const errors = (validate.errors ?? []).slice(0, 20).map((e) => {
      const where = e.instancePath || '/';
      const extra =
        e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : '';
      return `${where}: ${e.message ?? e.keyword}${extra}`;
    });
    return { valid: false, errors };
  }
  const errors = semanticErrors(bundle as ViewerBundle).slice(0, 20);
  return { valid: errors.length === 0, errors };
}

/**
 * Accept a bundle as an object or a JSON string (tslab sends strings), validate it, and return it.
 * `source` names where it came from (a file name, "display data") in error messages.
 */
export function parseViewerBundle(input: unknown, source = 'viewer bundle'): ViewerBundle {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      // V8 quotes the JSON around the error, newlines included: keep the message on one line.
      throw new Error(`${source}: not valid JSON (${(err as Error).message.replace(/\s+/g, ' ').slice(0, 200)})`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${source}: expected a ${VIEWER_MIME} object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const mime = (value as { mime?: unknown }).mime;
  if (mime !== undefined && mime !== VIEWER_MIME) {
    const shown =
      typeof mime === 'string'
        ? JSON.stringify(mime.slice(0, 120))
        : `of type ${Array.isArray(mime) ? 'list' : mime === null ? 'null' : typeof mime}`;
    throw new Error(`${source}: unsupported bundle type ${shown} (this viewer reads ${VIEWER_MIME})`);
  }
  const check = validateViewerBundle(value);
  if (!check.valid) throw new Error(`${source}: invalid viewer bundle: ${check.errors.join('; ')}`);
  return value as ViewerBundle;
}

/** Decode every array of a validated bundle into typed arrays and resolve the x axis. */
export function decodeViewerBundle(bundle: ViewerBundle): DecodedBundle {
  const columns = bundle.series ? bundle.series.columns.slice() : [];
  const values = bundle.series ? decodeFloat32(bundle.series.values, '/series/values') : new Float32Array(0);
  const scores = bundle.scores ? decodeFloat32(bundle.scores.values, '/scores/values') : null;
  const length = bundle.series ? bundle.series.length : scores ? scores.length : 0;
  const axis = bundle.axis ?? { unit: 'index' as const };
  let x: Float64Array;
  if (axis.time !== undefined) {
    x = decodeFloat64(axis.time, '/axis/time');
  } else {
    const start = axis.start ?? 0;
    const step = axis.step ?? 1;
    x = new Float64Array(length);
    for (let i = 0; i < length; i++) x[i] = start + i * step;
  }
  let scoreX: Float64Array | null = null;
  let scoreXEnd: Float64Array | null = null;
  if (scores) {
    if (bundle.scores?.alignment === 'window') {
      const w = bundle.scores.windowSize ?? 1;
      scoreX = x.subarray(0, scores.length);
      scoreXEnd = new Float64Array(scores.length);
      // A window's x extent is its first to its last row (the power seed's (Time[i], Time[i+w-1])).
      for (let i = 0; i < scores.length; i++) scoreXEnd[i] = i + w - 1 < x.length ? x[i + w - 1] : x[x.length - 1];
    } else {
      scoreX = x.subarray(0, scores.length);
      scoreXEnd = scoreX;
    }
  }
  let labels: Uint8Array | null = null;
  if (bundle.labels !== undefined) {
    // the one label check (browser/labels.ts): 0 and 1 only, as the metrics read them
    labels = toBinaryLabels(decodeArray(bundle.labels, '/labels'), { what: '/labels' });
  }
  return { bundle, x, values, columns, length, scores, scoreX, scoreXEnd, labels };
}
