// Preloaded with `node --require` by test/cli/help.test.ts: when the process exits, write the
// files of every CommonJS module it loaded (require.cache, which also holds CommonJS modules that
// `import()` loaded) to $RECORD_MODULES_FILE, one per line.
'use strict';
const fs = require('fs');
process.on('exit', () => {
  fs.writeFileSync(process.env.RECORD_MODULES_FILE, Object.keys(require.cache).join('\n') + '\n');
});
