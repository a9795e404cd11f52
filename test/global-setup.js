// Builds kernel-lib, then the tools on it, once before the suite, so CLI tests run the real
// `anomaly-lab` binary and the demo/tool tests the tools as `npm run demo` runs them.
const { execFileSync } = require('child_process');
const path = require('path');
module.exports = async () => {
  const root = path.resolve(__dirname, '..');
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  for (const project of ['kernel-lib/tsconfig.json', 'tools/tsconfig.json']) {
    execFileSync(process.execPath, [tsc, '-p', path.join(root, project)], { stdio: 'inherit' });
  }
};
