/**
 * A real JupyterLab 4 + Notebook 7 server for the end-to-end tests, installed offline from the
 * local wheel store into a private venv (node_modules/.cache, reused between runs), with the
 * extension installed from its Python package (`pip install ./extension`, the prebuilt
 * labextension as shared data) and the tslab kernel installed into the venv (`--sys-prefix`).
 * The server listens on 127.0.0.1 only, with a random token, and keeps its config, data, runtime,
 * settings and workspaces in a temporary directory (nothing of the machine's Jupyter setup is read
 * or written).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/shared';

/** Where the wheel store is (ANOMALY_LAB_WHEELS, else the machine's /opt/pypi/files); null: absent. */
export function findWheelStore(): string | null {
  const candidates = [process.env.ANOMALY_LAB_WHEELS, '/opt/pypi/files'].filter((d): d is string => !!d);
  for (const dir of candidates) {
    try {
      const files = fs.readdirSync(dir);
      if (files.some((f) => /^jupyterlab-4\.\d+\.\d+-py3-none-any\.whl$/.test(f)) && files.some((f) => /^notebook-7\./.test(f))) return dir;
    } catch {
      // not there
    }
  }
  return null;
}

export const VENV = path.join(REPO_ROOT, 'node_modules/.cache/anomaly-lab-jupyterlab-venv');
const PY = path.join(VENV, 'bin/python');
const TSLAB = path.join(REPO_ROOT, 'node_modules/.bin/tslab');
const SYSTEM_PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Run a command; its stdout and stderr together (`jupyter labextension list` writes to stderr). */
function run(cmd: string, args: string[], what: string, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env, maxBuffer: 64 << 20 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${what} failed (${why}):\n${out.trim().split('\n').slice(-12).join('\n')}`);
  }
  return out;
}

/**
 * The venv with JupyterLab and Notebook from `wheels` (created once), the current extension
 * (rebuilt and reinstalled every time: the sources may have changed) and the tslab kernel spec.
 * Returns the versions for the report.
 */
export function prepareVenv(wheels: string): { jupyterlab: string; notebook: string; labextensions: string } {
  const pipEnv = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
  const have = (): boolean => {
    try {
      execFileSync(PY, ['-c', 'import jupyterlab, notebook'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!have()) {
    fs.rmSync(VENV, { recursive: true, force: true });
    run(SYSTEM_PYTHON, ['-m', 'venv', VENV], `${SYSTEM_PYTHON} -m venv (Debian: apt-get install -y python3-venv)`);
    run(
      PY,
      ['-m', 'pip', 'install', '-q', '--no-index', '--find-links', wheels, 'jupyterlab>=4.6,<4.7', 'notebook>=7.6,<7.7'],
      `pip install jupyterlab notebook from ${wheels}`,
      pipEnv,
    );
  }
  // JupyterLab's "get notified about news?" toast would cover the page: answered no, for this venv only
  const overrides = path.join(VENV, 'share/jupyter/lab/settings/overrides.json');
  fs.mkdirSync(path.dirname(overrides), { recursive: true });
  // and notebooks keep every cell in the DOM (no virtual windowing), so the test sees the training
  // monitor's output while a cell far below it runs
  fs.writeFileSync(
    overrides,
    JSON.stringify(
      {
        '@jupyterlab/apputils-extension:notification': { fetchNews: 'false' },
        '@jupyterlab/notebook-extension:tracker': { windowingMode: 'none' },
      },
      null,
      2,
    ) + '\n',
  );
  // the labextension from the current sources (a fresh clone has none, an older build may be stale),
  // then the Python package of the extension, built from extension/ (hatchling from the wheel store)
  run('npm', ['run', '--prefix', REPO_ROOT, 'build:extension'], 'npm run build:extension');
  run(
    PY,
    [
      '-m',
      'pip',
      'install',
      '-q',
      '--no-index',
      '--find-links',
      wheels,
      '--force-reinstall',
      '--no-deps',
      path.join(REPO_ROOT, 'extension'),
    ],
    'pip install ./extension',
    pipEnv,
  );
  run(TSLAB, ['install', `--python=${PY}`, '--sys-prefix', `--binary=${TSLAB}`], 'tslab install --sys-prefix');
  const versions = run(PY, ['-c', 'import jupyterlab, notebook; print(jupyterlab.__version__, notebook.__version__)'], 'versions')
    .trim()
    .split(/\s+/);
  const labextensions = run(
    path.join(VENV, 'bin/jupyter'),
    ['labextension', 'list'],
    'jupyter labextension list',
    isolatedEnv(fs.mkdtempSync(path.join(os.tmpdir(), 'al-jl-list-'))),
  );
  return { jupyterlab: versions[0], notebook: versions[1], labextensions };
}

/** Environment with Jupyter's config/data/runtime dirs under `home` (the venv's share/jupyter stays on the path). */
function isolatedEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_CONFIG_DIR: path.join(home, 'config'),
    JUPYTER_DATA_DIR: path.join(home, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(home, 'runtime'),
    JUPYTERLAB_SETTINGS_DIR: path.join(home, 'settings'),
    JUPYTERLAB_WORKSPACES_DIR: path.join(home, 'workspaces'),
    IPYTHONDIR: path.join(home, 'ipython'),
    PATH: `${path.join(VENV, 'bin')}:${process.env.PATH ?? ''}`,
    ...extra,
  };
  delete env.JUPYTER_PATH;
  delete env.JUPYTER_CONFIG_PATH;
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface JupyterServer {
  /** http://127.0.0.1:<port>/ */
  base: string;
  token: string;
  /** `base` + path + the token query. */
  url(p: string): string;
  log(): string;
  stop(): Promise<void>;
}

/** Start `jupyter lab` (which also serves Notebook 7 under /tree and /notebooks) on loopback. */
export async function startJupyter(rootDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<JupyterServer> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'al-jupyter-'));
  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const args = [
    'lab',
    '--no-browser',
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    `--IdentityProvider.token=${token}`,
    `--ServerApp.root_dir=${rootDir}`,
    // tests drive the page through window.jupyterapp (JupyterLab and Notebook 7 alike)
    '--LabApp.expose_app_in_browser=True',
    '--JupyterNotebookApp.expose_app_in_browser=True',
    // no network: no news feed, no update check
    '--LabApp.news_url=None',
    '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
  ];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const out: string[] = [];
  const child: ChildProcess = spawn(path.join(VENV, 'bin/jupyter'), args, {
    cwd: rootDir,
    env: isolatedEnv(home, extraEnv),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
  const base = `http://127.0.0.1:${port}/`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    fs.rmSync(home, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`jupyter lab exited with ${child.exitCode}:\n${out.join('').split('\n').slice(-20).join('\n')}`);
    try {
      const res = await fetch(`${base}api/status?token=${token}`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter lab did not answer on ${base} within 90 s:\n${out.join('').split('\n').slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    base,
    token,
    url: (p: string) => `${base}${p.replace(/^\//, '')}${p.includes('?') ? '&' : '?'}token=${token}`,
    log: () => out.join(''),
    stop,
  };
}
