/**
 * Worker thread for `probeH5` (keras-h5.ts): opens an HDF5 file with h5wasm and reads everything
 * in it — every group, attribute and dataset value — then reports back. HDF5's C code can loop
 * forever on a damaged file (the fuzzer found a 7.5 KB one); a loop inside wasm cannot be
 * interrupted on the thread that runs it, but a worker can be terminated. Only a file that reads
 * completely here within H5_MAX_READ_MS is then read for real on the main thread.
 *
 * workerData: { file: string } (a scratch copy of the bytes). Posts { ok: true } or { ok: false }.
 * Nothing is printed: HDF5's stderr goes to /dev/null and h5wasm's console.error is muted.
 */
import * as fs from 'fs';
import { parentPort, workerData } from 'worker_threads';

interface Entity {
  type: string;
  attrs: Record<string, { value: unknown }>;
}
interface Group extends Entity {
  keys(): string[];
  get(name: string): Entity | null;
}
interface Dataset extends Entity {
  value: unknown;
}
interface H5 {
  ready: Promise<{ FS: { getStream?(fd: number): { nfd?: number } | undefined } }>;
  File: new (path: string, mode: string) => Group & { close(): unknown };
}

async function main(): Promise<void> {
  console.error = () => undefined; // h5wasm binds it when its module is created
  const mod = (await import('h5wasm/node')) as unknown as H5 & { default?: H5 };
  const h5 = mod.File ? mod : (mod.default as H5);
  const { FS } = await h5.ready;
  const stream = typeof FS.getStream === 'function' ? FS.getStream(2) : undefined;
  if (stream && typeof stream.nfd === 'number') stream.nfd = fs.openSync('/dev/null', 'w');
  const f = new h5.File((workerData as { file: string }).file, 'r');
  let visited = 0;
  const visit = (g: Group, depth: number): void => {
    if (depth > 64 || ++visited > 1_000_000) return;
    for (const a of Object.values(g.attrs)) void a.value;
    for (const k of g.keys()) {
      const child = g.get(k);
      if (!child) continue;
      if (child.type === 'Group') visit(child as Group, depth + 1);
      else if (child.type === 'Dataset') {
        for (const a of Object.values(child.attrs)) void a.value;
        void (child as Dataset).value;
      }
    }
  };
  visit(f, 0);
  f.close();
}

main().then(
  () => parentPort?.postMessage({ ok: true }),
  () => parentPort?.postMessage({ ok: false }), // the main thread reads it again and reports why
);
