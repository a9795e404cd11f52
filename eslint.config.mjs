import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

/**
 * The library's layers, lowest first: a module may import its own folder and lower layers only,
 * never a higher layer or a sibling folder of its own layer. Enforced by the rule below on every
 * relative import, export-from, `import()` and `require()` in kernel-lib/src. Nothing imports the
 * CLI, which sits on the top layer. The tools (tools/, their own workspace) sit outside the library
 * and reach it through the package only (no-restricted-imports on tools/** below).
 *
 * The CLI uses the public API only: outside its own folder it imports an area's barrel
 * (`<area>/index`), a root module (`version`, `limits`, `backend`, `backend-choices`), or an area's
 * `options` module (its option specs and defaults, tfjs-free, so `--help` loads no model code).
 */
export const LAYERS = [
  ['browser'], // the browser-safe core (metrics, thresholds, intervals, viewer contract, option specs, errors)
  ['version', 'limits', 'backend-choices'], // Node-side constants
  ['io', 'render'], // files (npy, parquet, CSV, atomic writes); html/svg/markdown/number rendering
  ['pickle', 'backend', 'onnx'], // formats; runtimes (tfjs backend, onnxruntime)
  ['runs'], // run directories, manifests
  ['anomalybert', 'power'], // models
  ['training'], // training (degradations, optimiser, transfer, LoRA)
  ['evaluation'], // synthetic test sets, baselines, step scoring
  ['report', 'notebook'], // offline reports, tslab display
  ['index'], // the public API
  ['cli'], // the command line (the demo, bench and experiments live in tools/, on the public API)
];
const LAYER_OF = new Map(LAYERS.flatMap((names, rank) => names.map((n) => [n, rank])));
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'kernel-lib/src');
/** Units that may import other areas through their public entry points only. */
const PUBLIC_API_ONLY = new Set(['cli']);
/** An area's public entry points, as paths relative to kernel-lib/src (extension optional). */
const PUBLIC_ENTRY = /^(?:[\w-]+|[\w-]+\/(?:index|options))(?:\.[cm]?[jt]s)?$/;

/** Top folder (or root file without extension) of a path inside kernel-lib/src, else undefined. */
function unitOf(file) {
  const rel = path.relative(SRC, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const first = rel.split(path.sep)[0];
  return first === rel ? first.replace(/\.(d\.)?[cm]?[jt]s$/, '') : first;
}

const layersPlugin = {
  rules: {
    'layered-imports': {
      meta: {
        type: 'problem',
        schema: [],
        messages: {
          upward:
            '{{from}} (layer {{fromRank}}) must not import {{to}} (layer {{toRank}}): layers point down (see LAYERS in eslint.config.mjs)',
          unknown: '{{to}} is in no layer: add it to LAYERS in eslint.config.mjs',
          publicApi:
            '{{from}} uses the public API only: import the {{to}} barrel ({{to}}/index), not {{path}} (see PUBLIC_ENTRY in eslint.config.mjs)',
        },
      },
      create(context) {
        const from = unitOf(context.filename);
        if (from === undefined) return {};
        const check = (node, source) => {
          if (typeof source !== 'string' || !source.startsWith('.')) return;
          const to = unitOf(path.resolve(path.dirname(context.filename), source));
          if (to === undefined || to === from) return;
          const fromRank = LAYER_OF.get(from);
          const toRank = LAYER_OF.get(to);
          if (fromRank === undefined || toRank === undefined) {
            context.report({ node, messageId: 'unknown', data: { to: fromRank === undefined ? from : to } });
          } else if (toRank >= fromRank) {
            context.report({ node, messageId: 'upward', data: { from, fromRank, to, toRank } });
          } else if (PUBLIC_API_ONLY.has(from)) {
            const rel = path
              .relative(SRC, path.resolve(path.dirname(context.filename), source))
              .split(path.sep)
              .join('/');
            if (!PUBLIC_ENTRY.test(rel)) context.report({ node, messageId: 'publicApi', data: { from, to, path: rel } });
          }
        };
        return {
          ImportDeclaration: (n) => check(n, n.source.value),
          ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
          ExportAllDeclaration: (n) => check(n, n.source.value),
          ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
          TSImportType: (n) => n.argument?.type === 'TSLiteralType' && check(n, n.argument.literal.value),
          CallExpression: (n) =>
            n.callee.type === 'Identifier' &&
            n.callee.name === 'require' &&
            n.arguments[0]?.type === 'Literal' &&
            check(n, n.arguments[0].value),
        };
      },
    },
  },
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/lib/**',
      '**/node_modules/**',
      'extension/anomaly_lab_jupyterlab/labextension/**',
      'test/artifacts/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['kernel-lib/src/**/*.ts'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/layered-imports': 'error' },
  },
  {
    // The tools (demo, bench, experiments) use the library as any user does: `anomaly-lab`,
    // `anomaly-lab/<namespace>`, `anomaly-lab/browser`; never its sources or build output by path.
    files: ['tools/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)kernel-lib(/|$)|^anomaly-lab/(src|dist)(/|$)',
              message: "tools import the public API only: 'anomaly-lab' or 'anomaly-lab/<namespace>'",
            },
          ],
        },
      ],
    },
  },
);
