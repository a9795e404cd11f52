// Builds kernel-lib, then the tools on it, once before the suite, so CLI tests run the real
// `anomaly-lab` binary and the demo/tool tests the tools as `npm run demo` runs them. The build is
// tsc's, writing only changed outputs and each by a rename (helpers/build-project.js): another jest
// run on the same checkout may be running those files right now.
const path = require('path');
const { buildProject } = require('./helpers/build-project');
module.exports = async () => {
  const root = path.resolve(__dirname, '..');
  for (const project of ['kernel-lib/tsconfig.json', 'tools/tsconfig.json']) buildProject(path.join(root, project));
};
