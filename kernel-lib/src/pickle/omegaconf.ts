/**
 * OmegaConf configs inside torch checkpoints. The AnomalyBERT ESS fork saves
 * `{'model_state_dict': ..., 'options': OmegaConf DictConfig}`; a DictConfig pickles as inert
 * objects (NEWOBJ + BUILD of their `__dict__`): `_content` (key → node or nested container),
 * `_metadata`, `_parent`. Nodes (`AnyNode`, `IntegerNode`, …) keep their value in `_val`.
 * Allowlisting these classes only creates attribute bags; `omegaconfToPlain` turns them into plain
 * JSON-like values (what `OmegaConf.to_container` returns, without resolving interpolations).
 */
import { PickleGlobal, PyObject, isPyDict, pyDictItems } from './unpickler';

const CONTAINERS = ['omegaconf.dictconfig.DictConfig', 'omegaconf.listconfig.ListConfig'];
const NODES = [
  'AnyNode',
  'StringNode',
  'IntegerNode',
  'FloatNode',
  'BooleanNode',
  'BytesNode',
  'PathNode',
  'EnumNode',
  'InterpolationResultNode',
  'UnionNode',
].map((n) => `omegaconf.nodes.${n}`);
const METADATA = ['omegaconf.base.Metadata', 'omegaconf.base.ContainerMetadata'];

/**
 * Python types and typing forms that configs reference as values (ref_type, object_type…).
 * They resolve to inert references: they cannot be called or instantiated.
 */
export function pythonTypeRefs(): Record<string, PickleGlobal> {
  const refs: Record<string, PickleGlobal> = {};
  for (const t of ['dict', 'list', 'tuple', 'int', 'float', 'str', 'bool', 'bytes', 'object']) {
    refs[`builtins.${t}`] = {};
    refs[`__builtin__.${t}`] = {}; // protocol-2 pickles map builtins → __builtin__ (int → long, str → unicode)
  }
  refs['__builtin__.long'] = {};
  refs['__builtin__.unicode'] = {};
  for (const t of ['Any', 'Dict', 'List', 'Tuple', 'Optional', 'Union']) refs[`typing.${t}`] = {};
  return refs;
}

/** Allowlist entries for OmegaConf containers, nodes and metadata (inert) plus `collections.defaultdict`. */
export function omegaconfGlobals(): Record<string, PickleGlobal> {
  const globals: Record<string, PickleGlobal> = { ...pythonTypeRefs() };
  for (const cls of [...CONTAINERS, ...NODES, ...METADATA]) {
    globals[cls] = { create: (args) => new PyObject(cls, args) };
  }
  // defaultdict(factory) → a plain dict (the factory is never called).
  globals['collections.defaultdict'] = { call: () => ({}) };
  return globals;
}

/** True for an unpickled DictConfig/ListConfig. */
export function isOmegaConf(v: unknown): v is PyObject {
  return v instanceof PyObject && CONTAINERS.includes(v.__class__);
}

/**
 * DictConfig → plain object, ListConfig → array, nodes → their values; other values pass through
 * (with their contents converted). Missing values ('???') and interpolations ('${a.b}') stay strings.
 */
export function omegaconfToPlain(v: unknown): unknown {
  return toPlain(v, new Map(), 0);
}

/** `seen` maps converted containers to their results: shared references stay shared, cycles end. */
function toPlain(v: unknown, seen: Map<unknown, unknown>, depth: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return seen.get(v);
  if (depth > 100) throw new Error('OmegaConf config nested deeper than 100 levels');
  if (v instanceof PyObject) {
    if (NODES.includes(v.__class__)) return toPlain(v._val, seen, depth + 1);
    if (isOmegaConf(v)) {
      const content = v._content;
      if (content === null || content === undefined || typeof content === 'string') return content ?? null;
      const out = toPlain(content, seen, depth + 1);
      seen.set(v, out);
      return out;
    }
    return v;
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(toPlain(x, seen, depth + 1));
    return out;
  }
  if (isPyDict(v)) {
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const [k, x] of pyDictItems(v)) {
      Object.defineProperty(out, String(k), { value: toPlain(x, seen, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}
