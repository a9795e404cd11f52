#!/usr/bin/env node
/**
 * Copies the prebuilt extension (extension/anomaly_lab_jupyterlab/labextension, from `npm run build:extension`; the Python package is the usual way: pip install ./extension)
 * into a Jupyter data directory's labextensions/, where JupyterLab 4 loads prebuilt extensions
 * without rebuilding. Target: $1, else `--sys-prefix` (<python prefix>/share/jupyter), else the
 * first directory of `jupyter --paths` data, else ~/.local/share/jupyter.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const NAME = 'anomaly-lab-jupyterlab';
const src = path.resolve(__dirname, '..', 'anomaly_lab_jupyterlab', 'labextension');
if (!fs.existsSync(path.join(src, 'package.json'))) {
  console.error(`${src} is missing: run "npm run build -w ${NAME}" first`);
  process.exit(1);
}
function dataDir() {
  const arg = process.argv[2];
  if (arg === '--sys-prefix') {
    const prefix = execFileSync('python3', ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
    return path.join(prefix, 'share', 'jupyter');
  }
  if (arg) return path.resolve(arg);
  try {
    const out = execFileSync('jupyter', ['--data-dir'], { encoding: 'utf8' }).trim();
    if (out) return out;
  } catch {
    // jupyter not on PATH: fall back to the per-user default
  }
  return path.join(os.homedir(), '.local', 'share', 'jupyter');
}
const dest = path.join(dataDir(), 'labextensions', NAME);
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(path.dirname(dest), { recursive: true });
fs.cpSync(src, dest, { recursive: true });
console.log(`installed ${NAME} into ${dest}\nrestart JupyterLab; "jupyter labextension list" shows it as a prebuilt extension`);
