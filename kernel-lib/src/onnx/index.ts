/** onnx: ONNX files and the onnxruntime engine (public API of this area, re-exported from the package root). */
export { ONNX_OPSET, ONNX_IR_VERSION, GraphBuilder, describeOnnxModel, readOnnxFile } from './graph';
export type { GraphIO, OnnxModelSummary, AttrValue } from './graph';
export {
  ENGINE_CHOICES,
  resolveEngine,
  loadOnnxRuntime,
  onnxUnavailableReason,
  createOnnxSession,
  defaultThreads,
  onnxSessionsCreated,
} from './runtime';
export type { EngineChoice, EngineName, EngineOptions, EngineInfo } from './runtime';
export { DiffGraph, VJP_RULES, broadcastShapes } from './grad';
export type { Shape } from './grad';
