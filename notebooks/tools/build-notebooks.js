#!/usr/bin/env node
/**
 * Build the tslab notebooks (notebooks/*.ipynb) from their readable sources (notebooks/src/*.ts).
 *
 * Source format ("percent" cells, as jupytext uses):
 *   // %% [markdown]        a markdown cell; its lines are written as `// text`
 *   // %%                   a code cell (TypeScript, run by the tslab kernel)
 * The .ipynb files are committed without outputs; `scripts/run-notebooks.sh` executes them.
 * Usage: node notebooks/tools/build-notebooks.js [--check]   (--check: fail if an .ipynb is stale)
 */
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = process.env.NB_ROOT || path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

function parseCells(text, file) {
  const cells = [];
  let cur = null;
  for (const line of text.split('\n')) {
    const m = /^\/\/ %%(.*)$/.exec(line);
    if (m) {
      const tag = m[1].trim();
      if (tag !== '' && tag !== '[markdown]') throw new Error(`${file}: unknown cell marker '// %%${m[1]}'`);
      cur = { type: tag === '[markdown]' ? 'markdown' : 'code', lines: [] };
      cells.push(cur);
      continue;
    }
    if (!cur) {
      if (line.trim() === '') continue;
      throw new Error(`${file}: text before the first '// %%' cell marker`);
    }
    if (cur.type === 'markdown') {
      if (line.trim() !== '' && !line.startsWith('//')) throw new Error(`${file}: markdown line without '// ': ${line}`);
      cur.lines.push(line.replace(/^\/\/ ?/, ''));
    } else cur.lines.push(line);
  }
  return cells.map((c) => {
    while (c.lines.length && c.lines[c.lines.length - 1].trim() === '') c.lines.pop();
    while (c.lines.length && c.lines[0].trim() === '') c.lines.shift();
    const source = c.lines.map((l, i) => (i < c.lines.length - 1 ? l + '\n' : l));
    return c.type === 'markdown'
      ? { cell_type: 'markdown', metadata: {}, source }
      : { cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source };
  });
}

function toNotebook(cells) {
  return {
    cells,
    metadata: {
      kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
      language_info: { codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true }, file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript', version: '5.0' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function main() {
  const check = process.argv.includes('--check');
  const stale = [];
  for (const f of fs.readdirSync(SRC).filter((n) => n.endsWith('.ts')).sort()) {
    const cells = parseCells(fs.readFileSync(path.join(SRC, f), 'utf8'), f);
    cells.forEach((c, i) => (c.id = `${f.replace(/\.ts$/, '')}-${i}`.replace(/[^A-Za-z0-9-_]/g, '-').slice(0, 64)));
    const text = JSON.stringify(toNotebook(cells), null, 1) + '\n';
    const out = path.join(ROOT, f.replace(/\.ts$/, '.ipynb'));
    const old = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : null;
    if (old === text) continue;
    if (check) stale.push(out);
    else {
      fs.writeFileSync(out, text);
      process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
    }
  }
  if (stale.length) {
    process.stderr.write(`stale notebooks (run node notebooks/tools/build-notebooks.js): ${stale.join(', ')}\n`);
    process.exit(1);
  }
}

if (require.main === module) main();
module.exports = { parseCells, toNotebook };
