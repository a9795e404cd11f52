/**
 * Jest runs TypeScript through ts-jest (CommonJS). Some dependencies ship ESM only
 * (hyparquet*, h5wasm's node build is CJS): jest's CommonJS runtime cannot load them, so they
 * are transformed to CommonJS with babel just for the tests. The shipped library keeps real
 * `import()` (TypeScript `module: node16`), which Node and tslab load natively.
 */
const ESM_PACKAGES = ['hyparquet', 'hyparquet-compressors', 'hyparquet-writer', 'hysnappy' /* hyparquet-compressors' snappy */];

/** @type {import('jest').Config} */
module.exports = {
  // node, sharing typed arrays with the main realm (native addons: onnxruntime-node), see the file.
  testEnvironment: '<rootDir>/test/helpers/node-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      {
        // tsconfig.json plus: compile to plain CommonJS for jest so `await import('hyparquet')` becomes
        // require() of the babel-transformed package (module node16 would keep a real import(), which
        // jest's CommonJS runtime rejects without --experimental-vm-modules).
        tsconfig: { module: 'commonjs', moduleResolution: 'node10' },
        isolatedModules: true,
        diagnostics: { ignoreCodes: [151002] },
      },
    ],
    '^.+\\.m?js$': ['babel-jest', { plugins: ['@babel/plugin-transform-modules-commonjs'], babelrc: false, configFile: false }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleNameMapper: {
    // the package and its namespace subpaths, from source (kernel-lib/package.json `exports` lists the same)
    '^anomaly-lab$': '<rootDir>/kernel-lib/src/index.ts',
    '^anomaly-lab/(core|browser)$': '<rootDir>/kernel-lib/src/browser/index.ts',
    '^anomaly-lab/limits$': '<rootDir>/kernel-lib/src/limits.ts',
    '^anomaly-lab/(io|render|pickle|onnx|runs|anomalybert|power|training|evaluation|report|notebook)$':
      '<rootDir>/kernel-lib/src/$1/index.ts',
    '^anomaly-lab-browser$': '<rootDir>/kernel-lib/src/browser/index.ts',
  },
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/global-setup.js',
};
