/**
 * JSON Schema (draft-07) of the viewer bundle v1. This object is the source; the file
 * `schema/viewer.v1.schema.json` is written from it (`node extension/scripts/write-viewer-schema.js`)
 * and a test checks the two are identical, so producers in other languages can validate too.
 * Cross-field rules a JSON Schema cannot say (array lengths agree, intervals ordered) are checked in
 * `validate.ts`.
 */
import { VIEWER_MIME } from './types';
import { THRESHOLD_MODES, THRESHOLD_MODE_INFO, THRESHOLD_PARAM_SCHEMA } from './threshold';

const num = { type: 'number' };
/** metric values may be null: JSON has no NaN, and 0/0 precision is undefined, not zero. */
const metric = { type: ['number', 'null'] };
const nonNegInt = { type: 'integer', minimum: 0 };
const text = { type: 'string', maxLength: 10000 };

const encodedArray = {
  type: 'object',
  required: ['dtype', 'shape', 'encoding', 'data'],
  additionalProperties: false,
  properties: {
    dtype: { enum: ['float32', 'float64', 'int32', 'uint8'] },
    shape: { type: 'array', items: nonNegInt, minItems: 1, maxItems: 2 },
    encoding: { const: 'base64' },
    data: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$' },
  },
};

const arrayField = {
  oneOf: [{ $ref: '#/definitions/encodedArray' }, { type: 'array', items: num }],
};

const metricRow = {
  type: 'object',
  required: ['precision', 'recall', 'f1'],
  properties: {
    anomaly_rate: metric,
    precision: metric,
    recall: metric,
    f1: metric,
    ess_score: metric,
  },
};

const interval = {
  type: 'object',
  required: ['start', 'end'],
  additionalProperties: false,
  properties: {
    start: num,
    end: num,
    startIndex: nonNegInt,
    endIndex: nonNegInt,
    fault: text,
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    probabilities: { type: 'object', additionalProperties: num },
    features: { type: 'object', additionalProperties: num },
  },
};

export const viewerSchemaV1 = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://anomaly-lab.dev/schema/viewer.v1.schema.json',
  title: 'Anomaly Lab viewer bundle v1',
  description: `Data contract of the anomaly viewer (MIME ${VIEWER_MIME}). Arrays are little-endian typed-array bytes in base64 or plain number lists.`,
  type: 'object',
  required: ['mime', 'version', 'kind', 'title'],
  additionalProperties: false,
  definitions: { encodedArray, arrayField, metricRow, interval },
  properties: {
    mime: { const: VIEWER_MIME },
    version: { const: 1 },
    kind: { enum: ['anomalybert', 'power', 'training', 'generic'] },
    title: text,
    provenance: {
      type: 'object',
      additionalProperties: false,
      properties: {
        source: text,
        model: text,
        checkpoint: text,
        created: text,
        tool: text,
        backend: text,
        notes: text,
      },
    },
    axis: {
      type: 'object',
      required: ['unit'],
      additionalProperties: false,
      properties: {
        unit: { enum: ['epoch_ms', 'seconds', 'index'] },
        start: num,
        step: { type: 'number', exclusiveMinimum: 0 },
        time: { $ref: '#/definitions/arrayField' },
        label: text,
      },
    },
    series: {
      type: 'object',
      required: ['columns', 'length', 'values'],
      additionalProperties: false,
      properties: {
        columns: { type: 'array', items: text, minItems: 1 },
        length: nonNegInt,
        values: { $ref: '#/definitions/arrayField' },
        units: { type: 'array', items: text },
      },
    },
    scores: {
      type: 'object',
      required: ['kind', 'alignment', 'values'],
      additionalProperties: false,
      properties: {
        kind: { enum: ['anomaly_score', 'reconstruction_error'] },
        name: text,
        alignment: { enum: ['point', 'window'] },
        windowSize: { type: 'integer', minimum: 1 },
        values: { $ref: '#/definitions/arrayField' },
      },
    },
    labels: { $ref: '#/definitions/arrayField' },
    threshold: {
      type: 'object',
      required: ['mode', 'pointAdjust'],
      additionalProperties: false,
      properties: {
        // the modes and their parameters come from the threshold module (threshold.ts)
        mode: { enum: [...THRESHOLD_MODES] },
        ...THRESHOLD_PARAM_SCHEMA,
        ewma: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        pointAdjust: { type: 'boolean' },
        maxGapSamples: { type: 'number', minimum: 0 },
        // the earlier name of maxGapSamples, in bundles written before it (read, never written)
        mergeGapSamples: { type: 'number', minimum: 0 },
      },
      // each mode's required parameters (a fixed threshold is meaningless without its value)
      allOf: [
        ...THRESHOLD_MODES.filter((m) => THRESHOLD_MODE_INFO[m].required?.length).map((m) => ({
          if: { properties: { mode: { const: m } } },
          then: { required: [...THRESHOLD_MODE_INFO[m].required!] },
        })),
        { anyOf: [{ required: ['maxGapSamples'] }, { required: ['mergeGapSamples'] }] },
      ],
    },
    labelledIntervals: { type: 'array', items: { $ref: '#/definitions/interval' } },
    intervals: { type: 'array', items: { $ref: '#/definitions/interval' } },
    classes: { type: 'array', items: text },
    featureImportances: {
      type: 'object',
      required: ['names', 'values'],
      additionalProperties: false,
      properties: {
        names: { type: 'array', items: text },
        values: { type: 'array', items: num },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      properties: {
        without_pa: { $ref: '#/definitions/metricRow' },
        with_pa: { $ref: '#/definitions/metricRow' },
        random_with_pa: { $ref: '#/definitions/metricRow' },
        best_without_pa: { $ref: '#/definitions/metricRow' },
        best_with_pa: { $ref: '#/definitions/metricRow' },
      },
    },
    training: {
      type: 'object',
      required: ['history'],
      additionalProperties: false,
      properties: {
        finished: { type: 'boolean' },
        maxSteps: { type: 'integer', minimum: 0 },
        history: {
          type: 'array',
          items: {
            type: 'object',
            required: ['step'],
            properties: {
              step: nonNegInt,
              loss: metric,
              accuracy: metric,
              lr: metric,
              elapsed_s: metric,
              test: {
                type: 'object',
                properties: {
                  without_pa: { $ref: '#/definitions/metricRow' },
                  with_pa: { $ref: '#/definitions/metricRow' },
                  random_with_pa: { $ref: '#/definitions/metricRow' },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
