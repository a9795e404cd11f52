/**
 * Browser-safe part of anomaly-lab: pure numeric code on typed arrays and the viewer's data
 * contract. Nothing here may import Node built-ins or tfjs; the JupyterLab extension imports it.
 */
export { createRng, restoreRng } from './random';
export type { Rng, RngState } from './random';
