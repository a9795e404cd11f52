/** pickle: public API of this area (re-exported from the package root). */
export {
  unpickle,
  Unpickler,
  PickleError,
  PyObject,
  GlobalRef,
  PY_ATTRS,
  PY_DICT_KEYS,
  PY_SETSTATE,
  pyDictItems,
  pyDictSet,
  isPyDict,
} from './unpickler';
export type { PickleGlobal, PickleContext, UnpickleOptions, UnpickleLimits } from './unpickler';
export { loadTorchStateDict, parseTorchStateDict, loadTorchCheckpoint, parseTorchCheckpoint } from './torch';
export type { TorchTensor, TorchCheckpoint, LoadTorchOptions, LoadTorchCheckpointOptions, ZipLimits } from './torch';
export { encodeTorchStateDict, saveTorchStateDict } from './torch-writer';
export type { TorchTensorInput } from './torch-writer';
export { omegaconfGlobals, omegaconfToPlain, isOmegaConf, pythonTypeRefs } from './omegaconf';
export { NumpyArray, NumpyDtype, numpyGlobals, numpyAfterBuild, decodeNumpyBytes, parseDtypeString } from './numpy';
export type { NumericData } from './numpy';
export { loadJoblib, parseJoblib, joblibGlobals, joblibPickleBytes } from './joblib';
export type { LoadJoblibOptions } from './joblib';
export { sklearnGlobals } from './sklearn-globals';
export { StandardScalerModel, ForestClassifierModel, LabelEncoderModel, loadSklearn, mapSklearn } from './sklearn';
export type { StandardScalerJSON, ForestClassifierJSON, LabelEncoderJSON, DecisionTreeArrays, SklearnValue } from './sklearn';
