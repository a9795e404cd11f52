/**
 * The tfjs backends a user can choose, declared once. Kept apart from backend.ts (which imports
 * tfjs) so option specs and `--help` can list the choices without loading tfjs.
 */

/** Concrete backends, in the order `auto` tries them. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The `backend` option as every command declares it. */
export const BACKEND_OPTION = { kind: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' } as const;
