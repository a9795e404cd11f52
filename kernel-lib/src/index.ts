/** anomaly-lab: the kernel library (Node / tslab). */
export * from './browser/index';
export { LIBRARY_VERSION } from './version';
