/** pickle: public API of this area (re-exported from the package root). */
export {
  unpickle, Unpickler, PickleError, PyObject, GlobalRef, PY_ATTRS, PY_DICT_KEYS, PY_SETSTATE,
  pyDictItems, pyDictSet, isPyDict,
} from './unpickler';
export type { PickleGlobal, PickleContext, UnpickleOptions, UnpickleLimits } from './unpickler';
export { loadTorchStateDict, parseTorchStateDict } from './torch';
export type { TorchTensor, LoadTorchOptions, ZipLimits } from './torch';
