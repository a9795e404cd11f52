/**
 * A safe pickle virtual machine (protocols 0–5).
 *
 * It interprets opcodes into a JS object graph and never executes anything from the stream:
 * every GLOBAL / STACK_GLOBAL / INST is resolved through an allowlist the caller passes
 * (`"module.name"` → a TS implementation). Anything else fails with
 * `<name>: pickle global 'posix.system' is not allowed`.
 *
 * JS representation of Python values (see README.md in this folder):
 *   None → null, bool → boolean, int → number (bigint when outside ±2^53), float → number,
 *   str → string, bytes / bytearray → Uint8Array (a copy), list and tuple → Array,
 *   set / frozenset → Set, dict → plain object (see `pyDictItems` for non-str keys),
 *   instances of allowlisted classes without a dedicated mapping → `PyObject`.
 */

import { LimitOverrides, Limits, limitError, resolveLimits } from '../limits';
import { escapeControl } from '../browser/text';

/** Marks the attributes that a BUILD put on a dict subclass (e.g. OrderedDict._metadata). */
export const PY_ATTRS: unique symbol = Symbol('pickle.attrs');
/** Original (non-str) keys of a dict, by the property name they were stored under. */
export const PY_DICT_KEYS: unique symbol = Symbol('pickle.dictKeys');
/** An object implementing `__setstate__` for BUILD. */
export const PY_SETSTATE: unique symbol = Symbol('pickle.setstate');

/** Instance of an allowlisted Python class that has no dedicated JS mapping: attributes as own properties. */
export class PyObject {
  /** `module.qualname` of the Python class. */
  declare readonly __class__: string;
  /** Positional arguments the object was created with (NEWOBJ / REDUCE), when any. */
  declare __args__?: unknown[];
  [attr: string]: unknown;
  constructor(className: string, args?: unknown[]) {
    Object.defineProperty(this, '__class__', { value: className, enumerable: false });
    if (args && args.length > 0) Object.defineProperty(this, '__args__', { value: args, enumerable: false, writable: true });
  }

  /** Node's console/tslab display: show the Python class instead of a bare "PyObject". */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: unknown, inspect: (v: unknown, o: unknown) => string): string {
    return `<${this.__class__}> ${inspect({ ...this }, options)}`;
  }
}

/** Context handed to global implementations (for error messages and nested reads). */
export interface PickleContext {
  /** File name or label used in error messages. */
  readonly name: string;
  /** The VM, for hooks that read raw bytes following an opcode (joblib). */
  readonly vm: Unpickler;
}

/** TS implementation of one allowlisted Python global. */
export interface PickleGlobal {
  /** REDUCE / call: `callable(*args)`. */
  call?: (args: unknown[], ctx: PickleContext) => unknown;
  /** NEWOBJ / NEWOBJ_EX / INST / OBJ: `cls.__new__(cls, *args, **kwargs)` (INST/OBJ also run __init__). */
  create?: (args: unknown[], kwargs: Record<string, unknown>, ctx: PickleContext) => unknown;
}

/** A resolved global on the VM stack. */
export class GlobalRef {
  constructor(
    readonly module: string,
    readonly qualname: string,
    readonly impl: PickleGlobal,
  ) {}
  get fullName(): string {
    return `${this.module}.${this.qualname}`;
  }
}

export interface UnpickleLimits {
  /** Maximum number of opcodes executed (default 100,000,000). */
  maxOps?: number;
  /** Maximum items in one list/tuple/dict/set (default 50,000,000). */
  maxContainerItems?: number;
  /** Maximum total bytes of str/bytes payloads materialised (default 4 GiB). */
  maxTotalBytes?: number;
  /** Maximum stack depth plus mark depth (default 1,000,000). */
  maxStack?: number;
}

export interface UnpickleOptions {
  /** Label for error messages (usually the file name). */
  name?: string;
  /** Allowlist: "module.qualname" → implementation. Everything else is rejected. */
  globals?: Record<string, PickleGlobal>;
  /** Resolves persistent ids (PERSID / BINPERSID); without it persistent ids are an error. */
  persistentLoad?: (pid: unknown, ctx: PickleContext) => unknown;
  /** Called after every BUILD; a return value other than undefined replaces the built object. */
  afterBuild?: (obj: unknown, ctx: PickleContext) => unknown;
  limits?: UnpickleLimits;
  /** Named budgets (PICKLE_MAX_INT_BYTES, PICKLE_MAX_INT_DIGITS, PICKLE_MAX_KEY_NODES, …); see limits.ts. */
  limitOverrides?: LimitOverrides;
  /** How many pickles this one is nested in (joblib object arrays); bounded by PICKLE_MAX_NESTING. */
  nesting?: number;
}

const DEFAULT_LIMITS: Required<UnpickleLimits> = {
  maxOps: 100_000_000,
  maxContainerItems: 50_000_000,
  maxTotalBytes: 4 * 1024 * 1024 * 1024,
  maxStack: 1_000_000,
};

const utf8 = new TextDecoder('utf-8');
const TWO53 = 2n ** 53n;

/** Why a dict key could not be named (turned into a one-line error by the VM). */
class KeyNameError extends Error {}

/**
 * Python repr-like text used as the property name of a non-str dict key. Iterative, with a bound
 * on the nodes walked (`maxNodes`): a hostile pickle can make a key that contains itself, or a
 * tuple that holds the next one twice at each of 40 levels (2^40 nodes from a 500-byte file).
 */
function keyName(key: unknown, maxNodes = 10_000): string {
  if (!Array.isArray(key)) return scalarKeyName(key);
  const parts: string[] = [];
  const onPath = new Set<unknown>();
  // Work items: a value to print, or a literal string (separators, closing brackets).
  type Item = { v: unknown } | { text: string; leave?: unknown[] };
  const todo: Item[] = [{ v: key }];
  let nodes = 0;
  while (todo.length > 0) {
    const item = todo.pop()!;
    if ('text' in item) {
      parts.push(item.text);
      if (item.leave) onPath.delete(item.leave);
      continue;
    }
    const v = item.v;
    if (++nodes > maxNodes) throw new KeyNameError(`a dict key has more than ${maxNodes} parts (PICKLE_MAX_KEY_NODES)`);
    if (!Array.isArray(v)) {
      parts.push(scalarKeyName(v));
      continue;
    }
    // Python refuses a list as a dict key (unhashable); a key that contains itself cannot be named.
    if (onPath.has(v)) throw new KeyNameError('a dict key contains itself (cyclic key)');
    onPath.add(v);
    parts.push('(');
    todo.push({ text: v.length === 1 ? ',)' : ')', leave: v });
    for (let i = v.length - 1; i >= 0; i--) {
      todo.push({ v: v[i] });
      if (i > 0) todo.push({ text: ', ' });
    }
  }
  return parts.join('');
}

function scalarKeyName(key: unknown): string {
  if (key === null) return 'None';
  if (key === true) return 'True';
  if (key === false) return 'False';
  if (typeof key === 'number' || typeof key === 'bigint') return String(key);
  if (typeof key === 'string') return `'${key}'`;
  if (key instanceof Uint8Array) return `b'${latin1(key.subarray(0, 4096))}${key.length > 4096 ? '…' : ''}'`;
  if (key instanceof GlobalRef) return key.fullName;
  if (key instanceof PyObject) return `<${key.__class__} object>`;
  if (key instanceof Set) return `<set of ${key.size}>`;
  if (key !== null && typeof key === 'object') return `<${(key as { constructor?: { name?: string } }).constructor?.name ?? 'object'}>`;
  return String(key);
}

/** Sets `dict[key] = value` following the dict representation documented above. */
export function pyDictSet(dict: Record<string, unknown>, key: unknown, value: unknown, maxKeyNodes?: number): void {
  let prop: string;
  if (typeof key === 'string') {
    prop = key;
    const extra = (dict as { [PY_DICT_KEYS]?: Map<string, unknown> })[PY_DICT_KEYS];
    extra?.delete(prop);
  } else {
    prop = keyName(key, maxKeyNodes);
    let extra = (dict as { [PY_DICT_KEYS]?: Map<string, unknown> })[PY_DICT_KEYS];
    if (!extra) {
      extra = new Map();
      Object.defineProperty(dict, PY_DICT_KEYS, { value: extra, enumerable: false });
    }
    extra.set(prop, key);
  }
  // defineProperty, not assignment: a key named "__proto__" must stay a plain data property.
  Object.defineProperty(dict, prop, { value, enumerable: true, writable: true, configurable: true });
}

/** The [key, value] pairs of an unpickled dict with the original Python keys (ints, tuples, None…). */
export function pyDictItems(dict: Record<string, unknown>): Array<[unknown, unknown]> {
  const extra = (dict as { [PY_DICT_KEYS]?: Map<string, unknown> })[PY_DICT_KEYS];
  return Object.keys(dict).map((k) => [extra && extra.has(k) ? extra.get(k) : k, dict[k]]);
}

/** True for a value that is an unpickled Python dict (a plain object). */
export function isPyDict(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Error raised for malformed or disallowed pickles; the message always starts with the source name. */
export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/**
 * The VM. `load()` reads one pickle (up to STOP) from `pos`; the position after it is kept, so
 * formats that append raw data after opcodes (joblib) or concatenate pickles can continue reading.
 */
export class Unpickler implements PickleContext {
  readonly name: string;
  pos: number;
  private readonly view: DataView;
  private readonly limits: Required<UnpickleLimits>;
  /** Named budgets (limits.ts). */
  readonly named: Limits;
  private ops = 0;
  private totalBytes = 0;

  constructor(
    readonly bytes: Uint8Array,
    private readonly opts: UnpickleOptions = {},
    start = 0,
  ) {
    this.name = opts.name ?? '<pickle>';
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
    this.named = resolveLimits(opts.limitOverrides);
    this.nesting = opts.nesting ?? 0;
    if (this.nesting > this.named.PICKLE_MAX_NESTING) {
      throw limitError(
        this.name,
        'PICKLE_MAX_NESTING',
        this.named.PICKLE_MAX_NESTING,
        `pickles nested more than ${this.named.PICKLE_MAX_NESTING} deep`,
      );
    }
  }

  /** Depth of this pickle inside enclosing ones (0 for the outermost). */
  readonly nesting: number;

  get vm(): Unpickler {
    return this;
  }

  fail(message: string): never {
    throw this.error(message);
  }

  /** A PickleError prefixed with the source name (for `throw` in callbacks, where TS cannot narrow on fail()). */
  error(message: string): PickleError {
    // Messages quote names from the stream (globals, literals): escaped, so they stay one line.
    return new PickleError(`${this.name}: ${escapeControl(message)}`);
  }

  /** Reads n raw bytes (a view into the input) — for hooks such as joblib's inline arrays. */
  readRaw(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) this.fail(`invalid length ${n}`);
    if (this.pos + n > this.bytes.length) this.fail('unexpected end of pickle data');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    if (this.pos >= this.bytes.length) this.fail('unexpected end of pickle data');
    return this.bytes[this.pos++];
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} is too large`);
    return Number(v);
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) this.fail('unexpected end of pickle data');
  }

  private payload(n: number): Uint8Array {
    this.totalBytes += n;
    if (this.totalBytes > this.limits.maxTotalBytes) {
      this.fail(`pickle payload exceeds the limit of ${this.limits.maxTotalBytes} bytes`);
    }
    return this.readRaw(n);
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('unexpected end of pickle data');
    const s = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private checkSize(n: number, what: string): void {
    if (n > this.limits.maxContainerItems) {
      this.fail(`${what} with ${n} items exceeds the limit of ${this.limits.maxContainerItems}`);
    }
  }

  private resolveGlobal(module: string, qualname: string): GlobalRef {
    const full = `${module}.${qualname}`;
    const impl = this.opts.globals && Object.prototype.hasOwnProperty.call(this.opts.globals, full) ? this.opts.globals[full] : undefined;
    if (!impl) this.fail(`pickle global '${full}' is not allowed`);
    return new GlobalRef(module, qualname, impl);
  }

  private callGlobal(callable: unknown, args: unknown[]): unknown {
    if (!(callable instanceof GlobalRef)) this.fail(`REDUCE on a non-callable ${describe(callable)}`);
    if (!callable.impl.call) this.fail(`pickle global '${callable.fullName}' cannot be called`);
    return callable.impl.call(args, this);
  }

  private createInstance(cls: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown {
    if (!(cls instanceof GlobalRef)) this.fail(`NEWOBJ on a non-class ${describe(cls)}`);
    if (!cls.impl.create) this.fail(`pickle global '${cls.fullName}' cannot be instantiated`);
    return cls.impl.create(args, kwargs, this);
  }

  private build(obj: unknown, state: unknown): unknown {
    const withSetState = obj as { [PY_SETSTATE]?: (state: unknown, ctx: PickleContext) => void };
    if (obj !== null && typeof obj === 'object' && typeof withSetState[PY_SETSTATE] === 'function') {
      withSetState[PY_SETSTATE]!(state, this);
    } else if (obj instanceof PyObject) {
      // Default object.__setstate__: a dict, or (dict | None, slot dict).
      let dictState = state;
      let slotState: unknown = null;
      if (Array.isArray(state) && state.length === 2 && (state[0] === null || isPyDict(state[0]))) {
        [dictState, slotState] = state;
      }
      for (const part of [dictState, slotState]) {
        if (part === null) continue;
        if (!isPyDict(part)) this.fail(`BUILD state for ${obj.__class__} is ${describe(part)}, expected a dict`);
        for (const [k, v] of pyDictItems(part)) {
          if (typeof k !== 'string') this.fail(`BUILD state for ${obj.__class__} has a non-str attribute name`);
          if (k === '__class__' || k === '__args__') this.fail(`BUILD state for ${obj.__class__} sets the reserved attribute '${k}'`);
          Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
      }
    } else if (isPyDict(obj)) {
      // dict subclasses (OrderedDict) keep instance attributes apart from their items.
      if (!isPyDict(state)) this.fail(`BUILD state for a dict is ${describe(state)}, expected a dict`);
      const target = obj as { [PY_ATTRS]?: Record<string, unknown> };
      if (!target[PY_ATTRS]) Object.defineProperty(obj, PY_ATTRS, { value: {}, enumerable: false });
      Object.assign(target[PY_ATTRS]!, state);
    } else {
      this.fail(`BUILD on ${describe(obj)} is not supported`);
    }
    const replaced = this.opts.afterBuild?.(obj, this);
    return replaced === undefined ? obj : replaced;
  }

  /** Runs the VM up to STOP and returns the unpickled value. */
  load(): unknown {
    const stack: unknown[] = [];
    const marks: number[] = [];
    const memo = new Map<number, unknown>();
    let proto = 0;

    const pop = (): unknown => {
      if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) {
        this.fail('stack underflow (malformed pickle)');
      }
      return stack.pop();
    };
    const top = (): unknown => {
      if (stack.length === 0) this.fail('stack underflow (malformed pickle)');
      return stack[stack.length - 1];
    };
    const popMark = (): unknown[] => {
      if (marks.length === 0) this.fail('MARK expected (malformed pickle)');
      const m = marks.pop()!;
      return stack.splice(m);
    };
    const push = (v: unknown): void => {
      if (stack.length + marks.length >= this.limits.maxStack) this.fail(`pickle stack exceeds ${this.limits.maxStack}`);
      stack.push(v);
    };
    const memoGet = (i: number): unknown => {
      if (!memo.has(i)) this.fail(`memo key ${i} missing (malformed pickle)`);
      return memo.get(i);
    };
    const appendTo = (list: unknown, items: unknown[]): void => {
      if (Array.isArray(list)) {
        this.checkSize(list.length + items.length, 'list');
        for (const it of items) list.push(it);
      } else {
        this.fail(`APPEND to ${describe(list)} is not supported`);
      }
    };
    // Item counts per dict: protocol 0 adds items one SETITEM at a time, so counting keys each time would be quadratic.
    const dictSizes = new WeakMap<object, number>();
    const setItems = (dict: unknown, items: unknown[]): void => {
      if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items (malformed pickle)');
      if (!isPyDict(dict)) this.fail(`SETITEM on ${describe(dict)} is not supported`);
      const size = (dictSizes.get(dict) ?? 0) + items.length / 2; // upper bound (repeated keys count twice)
      this.checkSize(size, 'dict');
      dictSizes.set(dict, size);
      try {
        for (let i = 0; i < items.length; i += 2) pyDictSet(dict, items[i], items[i + 1], this.named.PICKLE_MAX_KEY_NODES);
      } catch (e) {
        if (e instanceof KeyNameError) this.fail(e.message);
        throw e;
      }
    };
    const makeDict = (items: unknown[]): Record<string, unknown> => {
      const d: Record<string, unknown> = {};
      setItems(d, items);
      return d;
    };
    const str = (b: Uint8Array): string => utf8.decode(b);

    for (;;) {
      if (++this.ops > this.limits.maxOps) this.fail(`pickle exceeds ${this.limits.maxOps} operations`);
      const opPos = this.pos;
      const op = this.u8();
      switch (op) {
        // ---- protocol / framing
        case 0x80: // PROTO
          proto = this.u8();
          if (proto > 5) this.fail(`unsupported pickle protocol ${proto}`);
          break;
        case 0x95: {
          // FRAME: frames only group opcodes; reading stays sequential.
          const n = this.u64();
          if (this.pos + n > this.bytes.length) this.fail('unexpected end of pickle data');
          break;
        }
        case 0x2e: // STOP
          if (stack.length === 0) this.fail('STOP with an empty stack (malformed pickle)');
          return stack.pop();
        // ---- stack manipulation
        case 0x28: // MARK
          if (stack.length + marks.length >= this.limits.maxStack) this.fail(`pickle stack exceeds ${this.limits.maxStack}`);
          marks.push(stack.length);
          break;
        case 0x30: // POP
          if (marks.length > 0 && stack.length === marks[marks.length - 1]) marks.pop();
          else pop();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: // DUP
          push(top());
          break;
        // ---- memo
        case 0x70: // PUT
          memo.set(this.parseIntLine(), top());
          break;
        case 0x71: // BINPUT
          memo.set(this.u8(), top());
          break;
        case 0x72: // LONG_BINPUT
          memo.set(this.u32(), top());
          break;
        case 0x94: // MEMOIZE
          memo.set(memo.size, top());
          break;
        case 0x67: // GET
          push(memoGet(this.parseIntLine()));
          break;
        case 0x68: // BINGET
          push(memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          push(memoGet(this.u32()));
          break;
        // ---- constants
        case 0x4e: // NONE
          push(null);
          break;
        case 0x88: // NEWTRUE
          push(true);
          break;
        case 0x89: // NEWFALSE
          push(false);
          break;
        // ---- numbers
        case 0x49: {
          // INT (protocol 0; "01"/"00" are True/False)
          const s = this.line();
          if (s === '01') push(true);
          else if (s === '00') push(false);
          else push(this.parseInt(s));
          break;
        }
        case 0x4a: // BININT
          push(this.i32());
          break;
        case 0x4b: // BININT1
          push(this.u8());
          break;
        case 0x4d: // BININT2
          push(this.u16());
          break;
        case 0x4c: {
          // LONG
          let s = this.line();
          if (s.endsWith('L')) s = s.slice(0, -1);
          push(this.parseInt(s));
          break;
        }
        case 0x8a: // LONG1
          push(this.decodeLong(this.u8()));
          break;
        case 0x8b: {
          // LONG4
          const n = this.i32();
          if (n < 0) this.fail('negative LONG4 size');
          push(this.decodeLong(n));
          break;
        }
        case 0x46: {
          // FLOAT
          const s = this.line().trim();
          // Python's repr spells the specials inf / -inf / nan.
          const special: Record<string, number> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, nan: NaN, '-nan': NaN };
          const v = s.toLowerCase() in special ? special[s.toLowerCase()] : Number(s);
          if (Number.isNaN(v) && !/nan/i.test(s)) this.fail(`invalid FLOAT literal '${s}'`);
          push(v);
          break;
        }
        case 0x47: {
          // BINFLOAT (big-endian double)
          this.need(8);
          push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;
        }
        // ---- strings and bytes
        case 0x53: // STRING (protocol 0 py2 str, quoted repr) → str (latin1)
          push(parseQuotedString(this.line(), this.name));
          break;
        case 0x54: {
          // BINSTRING
          const n = this.i32();
          if (n < 0) this.fail('negative BINSTRING size');
          push(latin1(this.payload(n)));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          push(latin1(this.payload(this.u8())));
          break;
        case 0x56: // UNICODE (raw-unicode-escape)
          push(rawUnicodeEscape(this.line(), this.name));
          break;
        case 0x58: // BINUNICODE
          push(str(this.payload(this.u32())));
          break;
        case 0x8c: // SHORT_BINUNICODE
          push(str(this.payload(this.u8())));
          break;
        case 0x8d: // BINUNICODE8
          push(str(this.payload(this.u64())));
          break;
        case 0x42: // BINBYTES
          push(this.payload(this.u32()).slice());
          break;
        case 0x43: // SHORT_BINBYTES
          push(this.payload(this.u8()).slice());
          break;
        case 0x8e: // BINBYTES8
          push(this.payload(this.u64()).slice());
          break;
        case 0x96: // BYTEARRAY8
          push(this.payload(this.u64()).slice());
          break;
        case 0x97: // NEXT_BUFFER
          this.fail('out-of-band buffers (pickle protocol 5 NEXT_BUFFER) are not supported');
          break;
        case 0x98: // READONLY_BUFFER
          top();
          break;
        // ---- tuples, lists, dicts, sets
        case 0x29: // EMPTY_TUPLE
          push([]);
          break;
        case 0x74: // TUPLE
          push(popMark());
          break;
        case 0x85: // TUPLE1
          push([pop()]);
          break;
        case 0x86: {
          // TUPLE2
          const b = pop();
          const a = pop();
          push([a, b]);
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = pop();
          const b = pop();
          const a = pop();
          push([a, b, c]);
          break;
        }
        case 0x5d: // EMPTY_LIST
          push([]);
          break;
        case 0x6c: {
          // LIST
          const items = popMark();
          this.checkSize(items.length, 'list');
          push(items);
          break;
        }
        case 0x61: {
          // APPEND
          const v = pop();
          appendTo(top(), [v]);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = popMark();
          appendTo(top(), items);
          break;
        }
        case 0x7d: // EMPTY_DICT
          push({});
          break;
        case 0x64: // DICT
          push(makeDict(popMark()));
          break;
        case 0x73: {
          // SETITEM
          const v = pop();
          const k = pop();
          setItems(top(), [k, v]);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = popMark();
          setItems(top(), items);
          break;
        }
        case 0x8f: // EMPTY_SET
          push(new Set());
          break;
        case 0x90: {
          // ADDITEMS
          const items = popMark();
          const s = top();
          if (!(s instanceof Set)) this.fail(`ADDITEMS on ${describe(s)}`);
          this.checkSize(s.size + items.length, 'set');
          for (const it of items) s.add(it);
          break;
        }
        case 0x91: {
          // FROZENSET
          const items = popMark();
          this.checkSize(items.length, 'frozenset');
          push(new Set(items));
          break;
        }
        // ---- globals and object construction
        case 0x63: {
          // GLOBAL
          const module = this.line();
          const qualname = this.line();
          push(this.resolveGlobal(module, qualname));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const qualname = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof qualname !== 'string') this.fail('STACK_GLOBAL with non-str names');
          push(this.resolveGlobal(module, qualname));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = pop();
          const callable = pop();
          if (!Array.isArray(args)) this.fail('REDUCE arguments are not a tuple');
          push(this.callGlobal(callable, args));
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = pop();
          const cls = pop();
          if (!Array.isArray(args)) this.fail('NEWOBJ arguments are not a tuple');
          push(this.createInstance(cls, args, {}));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = pop();
          const args = pop();
          const cls = pop();
          if (!Array.isArray(args) || !isPyDict(kwargs)) this.fail('NEWOBJ_EX arguments are malformed');
          push(this.createInstance(cls, args, kwargs));
          break;
        }
        case 0x69: {
          // INST (protocol 0)
          const module = this.line();
          const qualname = this.line();
          const args = popMark();
          push(this.createInstance(this.resolveGlobal(module, qualname), args, {}));
          break;
        }
        case 0x6f: {
          // OBJ
          const items = popMark();
          if (items.length === 0) this.fail('OBJ without a class (malformed pickle)');
          push(this.createInstance(items[0], items.slice(1), {}));
          break;
        }
        case 0x62: {
          // BUILD
          const state = pop();
          const obj = pop();
          push(this.build(obj, state));
          break;
        }
        case 0x82:
        case 0x83:
        case 0x84: // EXT1/2/4
          this.fail('pickle extension registry codes (EXT1/EXT2/EXT4) are not allowed');
          break;
        // ---- persistent ids
        case 0x50: {
          // PERSID
          const pid = this.line();
          push(this.persistent(pid));
          break;
        }
        case 0x51: // BINPERSID
          push(this.persistent(pop()));
          break;
        default:
          this.fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opPos}`);
      }
    }
  }

  private persistent(pid: unknown): unknown {
    if (!this.opts.persistentLoad) this.fail('pickle uses persistent ids but no persistent_load is available');
    return this.opts.persistentLoad(pid, this);
  }

  private parseIntLine(): number {
    const v = this.parseInt(this.line());
    if (typeof v !== 'number' || v < 0) this.fail('invalid memo index');
    return v;
  }

  private parseInt(s: string): number | bigint {
    const t = s.trim();
    // Decimal text → BigInt is quadratic in the digit count: bounded like Python's int_max_str_digits.
    if (t.length > this.named.PICKLE_MAX_INT_DIGITS + 1) {
      throw limitError(this.name, 'PICKLE_MAX_INT_DIGITS', this.named.PICKLE_MAX_INT_DIGITS, `an integer literal of ${t.length} digits`);
    }
    if (!/^[+-]?\d+$/.test(t)) this.fail(`invalid integer literal '${s.slice(0, 40)}'`);
    return normInt(BigInt(t));
  }

  /**
   * Little-endian two's-complement integer of n bytes (LONG1/LONG4), in linear time: the bytes
   * become one hex string parsed at once (shifting a BigInt byte by byte is quadratic: a 1 MB
   * integer took minutes). Integers above PICKLE_MAX_INT_BYTES are refused before reading.
   */
  private decodeLong(n: number): number | bigint {
    if (n === 0) return 0;
    if (n > this.named.PICKLE_MAX_INT_BYTES) {
      throw limitError(this.name, 'PICKLE_MAX_INT_BYTES', this.named.PICKLE_MAX_INT_BYTES, `an integer of ${n} bytes`);
    }
    const b = this.payload(n);
    if (n <= 6) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
      if (b[n - 1] & 0x80) v -= 2 ** (8 * n);
      return v;
    }
    // ASCII hex digits, most significant byte first, decoded to one flat string (string
    // concatenation builds a rope whose flattening is far slower).
    const digits = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      const byte = b[n - 1 - i];
      digits[2 * i] = HEX_DIGIT[byte >> 4];
      digits[2 * i + 1] = HEX_DIGIT[byte & 15];
    }
    let v = BigInt(`0x${latin1Decoder.decode(digits)}`);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return normInt(v);
  }
}

const HEX_DIGIT = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const latin1Decoder = new TextDecoder('latin1');

function normInt(v: bigint): number | bigint {
  return v < TWO53 && v > -TWO53 ? Number(v) : v;
}

export function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof GlobalRef) return `'${v.fullName}'`;
  if (v instanceof PyObject) return `a ${v.__class__} object`;
  if (Array.isArray(v)) return 'a tuple/list';
  if (v instanceof Uint8Array) return 'bytes';
  return `a ${typeof v}`;
}

/** Protocol-0 STRING argument: a Python repr in quotes, with backslash escapes. */
function parseQuotedString(s: string, name: string): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) {
    throw new PickleError(`${name}: the STRING opcode argument must be quoted`);
  }
  const body = s.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    const simple: Record<string, string> = {
      n: '\n',
      r: '\r',
      t: '\t',
      '\\': '\\',
      "'": "'",
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
    };
    return simple[e] ?? `\\${e}`;
  });
}

/** Python's raw-unicode-escape codec (used by the protocol-0 UNICODE opcode). */
function rawUnicodeEscape(s: string, name: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string, u8: string) => {
    const cp = parseInt(u4 ?? u8, 16);
    if (cp > 0x10ffff) throw new PickleError(`${name}: UNICODE literal has the invalid code point 0x${cp.toString(16)}`);
    return String.fromCodePoint(cp);
  });
}

/** Unpickles one value from `bytes` with the given allowlist; see `UnpickleOptions`. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions = {}): unknown {
  return new Unpickler(bytes, opts).load();
}
