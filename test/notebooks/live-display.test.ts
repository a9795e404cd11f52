/**
 * Live display in the real tslab kernel, at the Jupyter protocol level: a short training run with
 * the TrainingMonitor must send ONE display_data carrying the viewer bundle + text/html +
 * text/plain, then update_display_data messages for the same display_id WHILE the cell runs (not
 * all at the end), which is what makes the monitor live in JupyterLab. A Python jupyter_client
 * script drives the kernel and records every message with its arrival time.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VIEWER_MIME } from 'anomaly-lab/core';
import { REPO_ROOT } from '../helpers/shared';
import { describeWithTools } from '../helpers/tools';

const DRIVER = String.raw`
import json, os, sys, time
from jupyter_client.manager import start_new_kernel
code, out = sys.argv[1], sys.argv[2]
km, kc = start_new_kernel(kernel_name='tslab', cwd=os.environ['NB_CWD'])
events = []
try:
    t0 = time.time()
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=240)
        if m['parent_header'].get('msg_id') != msg_id:
            continue
        t = m['msg_type']
        c = m['content']
        if t in ('display_data', 'update_display_data'):
            events.append({'t': time.time() - t0, 'type': t, 'id': c.get('transient', {}).get('display_id'), 'mimes': sorted(c['data'].keys()), 'finished': (c['data'].get('${VIEWER_MIME}') or {}).get('training', {}).get('finished')})
        elif t == 'error':
            events.append({'t': time.time() - t0, 'type': 'error', 'text': c.get('ename', '') + ': ' + c.get('evalue', '')})
        elif t == 'stream' and c.get('name') == 'stderr':
            events.append({'t': time.time() - t0, 'type': 'stderr', 'text': c.get('text', '')})
        elif t == 'status' and c['execution_state'] == 'idle':
            events.append({'t': time.time() - t0, 'type': 'idle'})
            break
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
json.dump(events, open(out, 'w'))
`;

const CELL = `
import * as al from 'anomaly-lab';
const site = al.notebook.generateEssSiteA({ days: 1, sampleSeconds: 60, seed: 1 });
const sc = al.io.MinMaxScaler.fit(site);
const tr: al.Series = { ...site, values: sc.transform(site.values, site.columns.length) };
const mon = new al.TrainingMonitor({ title: 'live test', maxSteps: 80, minIntervalMs: 100 });
await al.trainAnomalyBert({ train: tr, out: process.env.LIVE_RUN_DIR as string, scale: 'none', backend: 'cpu', log: () => {}, onProgress: mon.onProgress, onSummary: mon.onSummary,
  options: { max_steps: 80, summary_steps: 20, batch_size: 8, n_features: 8, patch_size: 4, d_embed: 16, n_layer: 1, n_head: 2, window_sliding: 8 } });
mon.finish();
`;

interface Event {
  t: number;
  type: string;
  id?: string;
  mimes?: string[];
  finished?: boolean;
  text?: string;
}

describeWithTools(
  'live display through the tslab kernel',
  { 'jupyter-nbconvert': 'jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel' },
  () => {
    let events: Event[] = [];

    beforeAll(() => {
      const info = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'run-notebooks.sh'), '--install-only'], { encoding: 'utf8' });
      const env = Object.fromEntries(
        info
          .trim()
          .split('\n')
          .map((l) => l.split(/=(.*)/s).slice(0, 2)),
      ) as { JUPYTER_PATH: string; PYTHON: string };
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-live-'));
      const out = path.join(dir, 'events.json');
      const r = spawnSync(env.PYTHON, ['-c', DRIVER, CELL, out], {
        env: {
          ...process.env,
          JUPYTER_PATH: env.JUPYTER_PATH,
          NB_CWD: path.join(REPO_ROOT, 'notebooks'),
          LIVE_RUN_DIR: path.join(dir, 'run'),
        },
        encoding: 'utf8',
        timeout: 300000,
      });
      if (!fs.existsSync(out)) throw new Error(`kernel driver failed (${r.status}): ${r.stderr.slice(-1500)}`);
      events = JSON.parse(fs.readFileSync(out, 'utf8')) as Event[];
    }, 320000);

    it('runs the cell without errors', () => {
      expect(events.filter((e) => e.type === 'error')).toEqual([]);
      // tslab reports a type error as a stderr line `<line>:<col> - <message>` and runs nothing
      expect(events.filter((e) => e.type === 'stderr' && /^\d+:\d+ - /m.test(e.text ?? ''))).toEqual([]);
      expect(events[events.length - 1].type).toBe('idle');
    });

    it('sends one multi-MIME display and updates it in place while the cell runs', () => {
      const displays = events.filter((e) => e.type === 'display_data');
      const updates = events.filter((e) => e.type === 'update_display_data');
      expect(displays).toHaveLength(1);
      expect(displays[0].mimes).toEqual([VIEWER_MIME, 'text/html', 'text/plain'].sort());
      expect(updates.length).toBeGreaterThanOrEqual(3);
      expect(new Set(updates.map((u) => u.id))).toEqual(new Set([displays[0].id]));
      // updates spread over the run, not flushed in one burst at the end
      const idle = events[events.length - 1].t;
      const first = updates[0].t;
      expect(idle - first).toBeGreaterThan(0.2);
      expect(updates.filter((u) => u.t < idle - 0.1).length).toBeGreaterThanOrEqual(2);
      expect(updates[updates.length - 1].finished).toBe(true);
    });
  },
);
