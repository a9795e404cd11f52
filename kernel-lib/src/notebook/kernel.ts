/**
 * The channel to the notebook front end.
 *
 * tslab's public display API (`tslab.display.raw(mime, data)`, `tslab.newDisplay()`) sends ONE
 * MIME type per output, so a viewer bundle could not carry its text/html and text/plain fallbacks
 * in the same output. tslab's kernel module `tslab/dist/jupyter.js` exports
 * `lastWriteDisplayData(content, update)`, the function its own `Display.raw` calls: it takes a
 * full Jupyter display content `{ data: {mime: value, ...}, metadata, transient: { display_id } }`
 * and sends `display_data` (update = false) or `update_display_data` (update = true). We call that.
 * Verified with tslab 1.0.22 under nbconvert/nbclient: several MIME types land in one output, and
 * an update (even from a later cell) replaces the output carrying the same display_id.
 *
 * We reach the kernel's own module instance, not just any copy on disk: inside a tslab cell
 * `globalThis.__tslab__.require('tslab')` is the running kernel's public module (tslab hooks that
 * id); its sibling `jupyter.js` in Node's module cache is the instance holding the live writer.
 * Outside a kernel (plain Node, the CLI, jest) there is no channel and callers print text instead.
 */
import * as path from 'path';

/** A Jupyter MIME bundle: MIME type → payload (strings, or JSON objects for +json types). */
export type MimeBundle = Record<string, unknown>;

interface DisplayContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient?: { display_id?: string };
}

type WriteDisplayData = (content: DisplayContent, update: boolean) => void;
interface TslabJupyterModule {
  lastWriteDisplayData: WriteDisplayData | null;
}

let cachedModule: TslabJupyterModule | null | undefined;

function findKernelJupyterModule(): TslabJupyterModule | null {
  const g = globalThis as { __tslab__?: { require?: (id: string) => unknown } };
  const kernelRequire = g.__tslab__?.require;
  if (typeof kernelRequire !== 'function') return null;
  let pub: unknown;
  try {
    pub = kernelRequire('tslab');
  } catch {
    return null;
  }
  // Find the file the kernel's public module was loaded from; jupyter.js sits beside it.
  for (const [file, mod] of Object.entries(require.cache)) {
    if (mod && mod.exports === pub) {
      const jupyterFile = path.join(path.dirname(file), 'jupyter.js');
      const jupyter = require.cache[jupyterFile]?.exports as TslabJupyterModule | undefined;
      if (jupyter && 'lastWriteDisplayData' in jupyter) return jupyter;
    }
  }
  return null;
}

function kernelModule(): TslabJupyterModule | null {
  if (cachedModule === undefined) cachedModule = findKernelJupyterModule();
  return cachedModule;
}

/** True inside a running tslab kernel that can receive rich display data. */
export function inNotebook(): boolean {
  const m = kernelModule();
  return m !== null && typeof m.lastWriteDisplayData === 'function';
}

/**
 * Send one rich output. Returns false when no kernel is attached (nothing was sent), so the caller
 * can print its text fallback instead.
 */
export function sendDisplayData(data: MimeBundle, opts: { displayId?: string; update?: boolean } = {}): boolean {
  const m = kernelModule();
  const write = m?.lastWriteDisplayData;
  if (typeof write !== 'function') return false;
  const content: DisplayContent = { data, metadata: {} };
  if (opts.displayId) content.transient = { display_id: opts.displayId };
  write(content, Boolean(opts.update && opts.displayId));
  return true;
}

let idCounter = 0;
/** A display id unique within this kernel session (front ends key in-place updates on it). */
export function newDisplayId(prefix = 'anomaly-lab'): string {
  idCounter += 1;
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${idCounter}`;
}
