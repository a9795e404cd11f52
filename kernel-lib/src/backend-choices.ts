/**
 * The tfjs backends and the engines a user can choose, declared once. Kept apart from backend.ts
 * (which imports tfjs) and onnx/runtime.ts (which loads onnxruntime) so option specs, their checks
 * and `--help` can list the choices without loading either.
 */

/** Concrete backends, in the order `auto` tries them. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The `backend` option as every command declares it. */
export const BACKEND_OPTION = { kind: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' } as const;

/**
 * Engines that run a model: onnxruntime-node (inference, and training's forward and backward
 * pass as one native call) or tfjs. 'auto' takes onnx where onnxruntime-node loads (onnx/runtime.ts).
 */
export const ENGINE_NAMES = ['onnx', 'tfjs'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
export const ENGINE_CHOICES = ['auto', ...ENGINE_NAMES] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export function isEngineChoice(x: unknown): x is EngineChoice {
  return typeof x === 'string' && (ENGINE_CHOICES as readonly string[]).includes(x);
}

export function isEngineName(x: unknown): x is EngineName {
  return typeof x === 'string' && (ENGINE_NAMES as readonly string[]).includes(x);
}

/** The engine choices in a sentence, for messages: "auto, onnx or tfjs". */
export const ENGINE_CHOICES_TEXT = `${ENGINE_CHOICES.slice(0, -1).join(', ')} or ${ENGINE_CHOICES[ENGINE_CHOICES.length - 1]}`;
