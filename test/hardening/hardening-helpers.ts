/**
 * Inputs and small utilities for the runs/CLI hardening tests: a generated training series (a
 * test input, not a fixture), the tiny model's CLI options, a tmpfs mount for disk-full cases,
 * and a digest of a directory tree to prove "nothing changed".
 */
import * as crypto from 'crypto';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNpy } from 'anomaly-lab/io';
import { tinyModelFlags } from '../helpers/tiny-model';

export function tmpRoot(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `al-hard-${name}-`));
}

/** A smooth 3-column series of `rows` rows as .npy (float32). */
export function writeTrainNpy(file: string, rows = 600): string {
  const C = 3;
  const v = new Float32Array(rows * C);
  for (let t = 0; t < rows; t++) for (let c = 0; c < C; c++) v[t * C + c] = Math.sin(t / (9 + 4 * c) + c) + 0.3 * Math.sin(t / 3.7 + 2 * c);
  writeNpy(file, v, [rows, C]);
  return file;
}

/** A model that trains in milliseconds per step on cpu (window 32). */
export function tinyTrainArgs(trainFile: string, extra: { dEmbed?: number } = {}): string[] {
  return [
    'train',
    '--train',
    trainFile,
    ...tinyModelFlags({ dEmbed: extra.dEmbed }),
    '--batch_size',
    '4',
    '--window_sliding',
    '8',
    '--summary_steps',
    '10',
    '--backend',
    'cpu',
    '--seed',
    '1',
  ];
}

/** sha256 of every regular file under `dir`, by relative path (lock files excluded). */
export function treeDigest(dir: string, filter: (rel: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const rel = path.relative(dir, p);
      const st = fs.statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && !name.startsWith('.anomaly-lab.lock') && filter(rel))
        out[rel] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/**
 * Mount a tmpfs of `sizeKb` at `dir` (root only). Returns an unmount function, or a reason why
 * it is not possible here.
 */
export function mountTmpfs(dir: string, sizeKb: number): { unmount: () => void } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'tmpfs mounts need Linux' };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { skip: 'mounting a tmpfs needs root' };
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `mount -t tmpfs is not permitted here (${(r.stderr || r.error?.message || '').trim()})` };
  return { unmount: () => execFileSync('umount', [dir]) };
}

/** Free kilobytes on the file system holding `dir`. */
export function freeKb(dir: string): number {
  const s = fs.statfsSync(dir);
  return Math.floor((s.bavail * s.bsize) / 1024);
}

/** A pid that certainly is not running: a child that has exited. */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}
