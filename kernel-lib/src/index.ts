/**
 * anomaly-lab: the kernel library (Node / tslab).
 * Each area keeps its public API in its own barrel; names must be unique across areas.
 */
export * from './browser/index';
export { LIBRARY_VERSION } from './version';
export { DEFAULT_LIMITS, LIMITS_ENV, setLimits, resolveLimits, parseLimitsSpec, LimitError, limitError, wrapParseError } from './limits';
export type { LimitName, Limits, LimitOverrides } from './limits';
export { initBackend, activeBackend, BACKEND_CHOICES } from './backend';
export type { BackendInfo, BackendChoice, InitBackendOptions } from './backend';
export * from './io/index';
export * from './onnx/index';
export * from './pickle/index';
export * from './anomalybert/index';
export * from './training/index';
export * from './power/index';
export * from './notebook/index';
export * from './report/index';
