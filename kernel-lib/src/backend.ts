/**
 * Compute-backend selection. One place decides which tfjs backend runs:
 * tfjs-node-gpu → tfjs-node → wasm → cpu, unless the caller names one.
 *
 * The native bindings cannot be installed on every machine (their install step downloads
 * libtensorflow), so they are optional and probed at run time. On wasm we also patch
 * BatchMatMul: the wasm kernel is ~10× slower with transposeA/B (what autodiff emits) than an
 * explicit transpose followed by a plain product; Slice/SplitV/Unpack, whose stock kernels copy
 * the whole input for every piece they cut; and Transpose, whose stock kernel is ~20× slower than
 * a strided copy.
 */
import * as tf from '@tensorflow/tfjs';

import { BACKEND_CHOICES, BACKEND_NAMES, type BackendChoice, type BackendName } from './backend-choices';
export { BACKEND_CHOICES, BACKEND_NAMES };
export type { BackendChoice, BackendName } from './backend-choices';

export interface BackendInfo {
  /** The tfjs backend name now active ('tensorflow', 'wasm' or 'cpu'). */
  name: string;
  /** Which package provides it. */
  provider: BackendName;
  native: boolean;
  /** Hint printed when the backend is not native. */
  hint?: string;
}

let active: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

const NATIVE_HINT =
  'for native speed install @tensorflow/tfjs-node (or -gpu) where its libtensorflow download is allowed; it is picked up automatically';

function tryRequire(name: string): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Swap a wasm kernel for `makeKernelFunc(original)`, once per process. The replacement may fall
 * back to the original kernel; its setup/dispose hooks stay registered.
 */
const patchedKernels = new Set<string>();
function overrideWasmKernel(name: string, makeKernelFunc: (orig: tf.KernelConfig) => tf.KernelFunc): void {
  if (patchedKernels.has(name)) return;
  const orig = tf.getKernel(name, 'wasm');
  if (!orig) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    setupFunc: orig.setupFunc,
    disposeFunc: orig.disposeFunc,
    kernelFunc: makeKernelFunc(orig),
  });
  patchedKernels.add(name);
}

/** Replace wasm BatchMatMul with transpose-then-multiply when a transpose flag is set. */
function patchWasmBatchMatMul(): void {
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) return;
  overrideWasmKernel('BatchMatMul', (orig) => (args) => {
    const { inputs, backend, attrs } = args as unknown as {
      inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
      backend: { disposeData(id: object): void };
      attrs: { transposeA: boolean; transposeB: boolean };
    };
    if (!attrs.transposeA && !attrs.transposeB) return orig.kernelFunc(args);
    const swapLast = (x: tf.TensorInfo): tf.TensorInfo => {
      const r = x.shape.length;
      const perm = [...Array(r).keys()];
      perm[r - 1] = r - 2;
      perm[r - 2] = r - 1;
      return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } } as never) as tf.TensorInfo;
    };
    const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a;
    const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b;
    const out = orig.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as never);
    if (a !== inputs.a) backend.disposeData(a.dataId);
    if (b !== inputs.b) backend.disposeData(b.dataId);
    return out;
  });
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

/**
 * x[begin : begin + size] into a new wasm tensor, copying only the selected runs. Heap views are
 * taken after the output is allocated, since allocating may grow (and detach) the heap.
 */
function fastSlice(x: tf.TensorInfo, begin: number[], size: number[], backend: WasmBackendLike): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const xVals = backend.typedArrayFromHeap(x);
  const outVals = backend.typedArrayFromHeap(out);
  const shape = x.shape;
  const r = shape.length;
  const strides = tf.util.computeStrides(shape);
  // Innermost axis k that is not taken whole: each run of `run` elements is contiguous in x.
  let k = r - 1;
  while (k > 0 && size[k] === shape[k]) k--;
  const stride = (j: number): number => (j < r - 1 ? strides[j] : 1);
  const run = size[k] * stride(k);
  const idx = new Array<number>(k).fill(0);
  for (let outOff = 0; ; outOff += run) {
    let off = begin[k] * stride(k);
    for (let j = 0; j < k; j++) off += (begin[j] + idx[j]) * strides[j];
    outVals.set(xVals.subarray(off, off + run), outOff);
    let j = k - 1;
    while (j >= 0 && ++idx[j] === size[j]) idx[j--] = 0;
    if (j < 0) break;
  }
  return out;
}

/**
 * Replace wasm Slice, SplitV and Unpack: the stock kernels copy their WHOLE input (readSync)
 * before every slice, so cutting k pieces from a tensor costs k full copies (split, unstack and
 * gather-free attention suffer; SplitV and Unpack call that slice once per output). These read
 * heap views and copy only the selected runs (fastSlice). Same values, bit for bit.
 */
function patchWasmSlice(): void {
  overrideWasmKernel('Slice', (orig) => (args) => {
    const { inputs, attrs, backend } = args as unknown as {
      inputs: { x: tf.TensorInfo };
      attrs: { begin: number | number[]; size?: number | number[] };
      backend: WasmBackendLike;
    };
    const x = inputs.x;
    if (x.dtype === 'string') return orig.kernelFunc(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    return fastSlice(x, begin, size, backend);
  });
  overrideWasmKernel('SplitV', (orig) => (args) => {
    const { inputs, attrs, backend } = args as unknown as {
      inputs: { x: tf.TensorInfo };
      attrs: { numOrSizeSplits: number | number[]; axis: number | number[] };
      backend: WasmBackendLike;
    };
    const x = inputs.x;
    if (x.dtype === 'string') return orig.kernelFunc(args);
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const out = fastSlice(x, begin.slice(), size, backend);
      begin[axis] += s;
      return out;
    });
  });
  overrideWasmKernel('Unpack', (orig) => (args) => {
    const { inputs, attrs, backend } = args as unknown as {
      inputs: { value: tf.TensorInfo };
      attrs: { axis: number };
      backend: WasmBackendLike;
    };
    const x = inputs.value;
    if (x.dtype === 'string') return orig.kernelFunc(args);
    const r = x.shape.length;
    const axis = attrs.axis < 0 ? attrs.axis + r : attrs.axis;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const size = x.shape.slice();
    size[axis] = 1;
    return Array.from({ length: x.shape[axis] }, (_, i) => {
      const begin = new Array<number>(r).fill(0);
      begin[axis] = i;
      const out = fastSlice(x, begin, size, backend);
      return { dataId: out.dataId, dtype: out.dtype, shape: outShape };
    });
  });
}

/** x permuted by `perm` into a new wasm tensor: output rows in order, input read by strides. */
function fastTranspose(x: tf.TensorInfo, perm: number[], backend: WasmBackendLike): tf.TensorInfo {
  const shape = x.shape;
  const r = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const out = backend.makeOutput(outShape, x.dtype);
  const n = tf.util.sizeFromShape(outShape);
  if (n === 0) return out;
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  if (r <= 1 || perm.every((p, i) => p === i)) {
    ov.set(xv.subarray(0, n));
    return out;
  }
  const inStrides = [...tf.util.computeStrides(shape), 1];
  if (perm[r - 1] === r - 2 && perm[r - 2] === r - 1 && perm.slice(0, r - 2).every((p, i) => p === i)) {
    // A batch of matrix transposes (…, a, b) → (…, b, a), in 32 × 32 tiles (cache-friendly reads).
    const a = shape[r - 2];
    const b = shape[r - 1];
    const T = 32;
    for (let off = 0; off < n; off += a * b) {
      for (let i0 = 0; i0 < a; i0 += T) {
        const i1 = Math.min(i0 + T, a);
        for (let j0 = 0; j0 < b; j0 += T) {
          const j1 = Math.min(j0 + T, b);
          for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) ov[off + j * a + i] = xv[off + i * b + j];
        }
      }
    }
    return out;
  }
  const stride = perm.map((p) => inStrides[p]); // input step per output axis
  const inner = outShape[r - 1];
  const innerStride = stride[r - 1];
  const idx = new Array<number>(r - 1).fill(0);
  let base = 0; // input offset of the current output row
  for (let o = 0; o < n; o += inner) {
    for (let k = 0, src = base; k < inner; k++, src += innerStride) ov[o + k] = xv[src];
    // Next output row: odometer over the outer axes, keeping `base` in step.
    let j = r - 2;
    while (j >= 0) {
      base += stride[j];
      if (++idx[j] < outShape[j]) break;
      base -= stride[j] * outShape[j];
      idx[j--] = 0;
    }
  }
  return out;
}

/**
 * Replace wasm Transpose, and the transpose inside Sum: the stock kernel moves elements through a
 * generic index computation (measured 9.5 ms for a (1024, 256) matrix, ~20× a matrix product of
 * that size). Every transposed product (the BatchMatMul patch above) and every Sum over a leading
 * axis (the bias, LayerNorm and relative-bias gradients: wasm's Sum transposes the reduced axes
 * innermost first, calling its own transpose) went through it. Sum keeps the stock reduction on
 * the transposed input, so its values are the stock kernel's bit for bit; transposes are copies.
 */
function patchWasmTranspose(): void {
  overrideWasmKernel('Transpose', (orig) => (args) => {
    const { inputs, attrs, backend } = args as unknown as {
      inputs: { x: tf.TensorInfo };
      attrs: { perm: number[] };
      backend: WasmBackendLike;
    };
    if (inputs.x.dtype === 'string' || inputs.x.dtype === 'complex64') return orig.kernelFunc(args);
    return fastTranspose(inputs.x, attrs.perm, backend);
  });
  overrideWasmKernel('Sum', (orig) => (args) => {
    const { inputs, attrs, backend } = args as unknown as {
      inputs: { x: tf.TensorInfo };
      attrs: { axis: number | number[]; keepDims: boolean };
      backend: WasmBackendLike & { disposeData(id: object): void };
    };
    const x = inputs.x;
    const r = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
    const perm = tf.backend_util.getAxesPermutation(axes, r);
    if (perm === null || x.dtype === 'string' || x.dtype === 'complex64') return orig.kernelFunc(args);
    const t = fastTranspose(x, perm, backend);
    const inner = tf.backend_util.getInnerMostAxes(axes.length, r);
    const out = orig.kernelFunc({ inputs: { x: t }, attrs: { axis: inner, keepDims: false }, backend } as never) as tf.TensorInfo;
    backend.disposeData(t.dataId);
    const [reducedShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape;
    return { dataId: out.dataId, dtype: out.dtype, shape };
  });
}

async function activate(choice: BackendChoice): Promise<BackendInfo> {
  const order: readonly BackendName[] = choice === 'auto' ? BACKEND_NAMES : [choice];
  const errors: string[] = [];
  for (const provider of order) {
    try {
      if (provider === 'tensorflow-gpu' || provider === 'tensorflow') {
        const pkg = provider === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
        if (!tryRequire(pkg)) throw new Error(`${pkg} is not installed`);
        if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} failed to initialise`);
        return { name: 'tensorflow', provider, native: true };
      }
      if (provider === 'wasm') {
        // require, not import(): jest's CommonJS runtime rejects import() without --experimental-vm-modules.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('@tensorflow/tfjs-backend-wasm');
        if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
        patchWasmBatchMatMul();
        patchWasmSlice();
        patchWasmTranspose();
        return { name: 'wasm', provider, native: false, hint: NATIVE_HINT };
      }
      if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
      // tfjs-backend-cpu prints a multi-line "install tfjs-node" banner on first use; we already
      // said which backend runs and how to get a native one, in one line.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return { name: 'cpu', provider, native: false, hint: NATIVE_HINT };
    } catch (e) {
      errors.push(`${provider}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no tfjs backend could be started (${errors.join('; ')})`);
}

export interface InitBackendOptions {
  backend?: BackendChoice | string;
  /** Print which backend runs (default true). */
  log?: boolean;
  logger?: (line: string) => void;
}

/**
 * Select and start the compute backend once per process. Later calls return the active one
 * unless a different backend is named explicitly.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const choice = (opts.backend ?? process.env.ANOMALY_LAB_BACKEND ?? 'auto') as BackendChoice;
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(`unknown backend '${choice}' (choose one of ${BACKEND_CHOICES.join(', ')})`);
  }
  if (active && (choice === 'auto' || choice === active.provider)) return active;
  if (pending && choice === 'auto') return pending;
  pending = activate(choice);
  try {
    active = await pending;
  } finally {
    pending = undefined;
  }
  if (opts.log ?? true) {
    const log = opts.logger ?? ((line: string) => process.stderr.write(line + '\n'));
    log(`anomaly-lab: tfjs backend '${active.name}'${active.native ? '' : ` (${active.hint})`}`);
  }
  return active;
}

/** The backend now active, if one was started. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

export { tf };
