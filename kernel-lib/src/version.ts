/** The library version, recorded in every checkpoint and manifest. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const LIBRARY_VERSION: string = (require('../package.json') as { version: string }).version;
