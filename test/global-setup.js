// Builds kernel-lib once before the suite so CLI tests run the real `anomaly-lab` binary.
const { execFileSync } = require('child_process');
const path = require('path');
module.exports = async () => {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'kernel-lib/tsconfig.json')], {
    stdio: 'inherit',
  });
};
