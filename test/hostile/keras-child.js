// Child process for tests that load Keras files: h5wasm's Node build cannot be loaded inside jest's
// CommonJS runtime, so fuzz.test.ts and limits.test.ts run the built library here. argv[2] is a JSON
// file: { files: [...], expectedSha256?: string }. Prints one JSON line per file:
// { file, ok, message?, errorName?, ms }, then { tensors } (tfjs tensors left after all loads).
'use strict';
const fs = require('fs');
const path = require('path');
const dist = path.join(__dirname, '..', '..', 'kernel-lib', 'dist');
const { loadKerasH5, loadKerasArchive } = require(path.join(dist, 'power', 'keras-h5.js'));
const { initBackend, tf } = require(path.join(dist, 'backend.js'));

(async () => {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  await initBackend({ backend: 'cpu', log: false });
  const before = tf.memory().numTensors;
  for (const file of spec.files) {
    const t0 = Date.now();
    const at = tf.memory().numTensors;
    try {
      const opts = spec.expectedSha256 ? { expectedSha256: spec.expectedSha256 } : {};
      const k = file.endsWith('.keras') ? await loadKerasArchive(file, opts) : await loadKerasH5(file, opts);
      k.model.dispose();
      process.stdout.write(JSON.stringify({ file, ok: true, ms: Date.now() - t0, leaked: tf.memory().numTensors - at }) + '\n');
    } catch (e) {
      process.stdout.write(
        JSON.stringify({
          file,
          ok: false,
          message: e && e.message,
          errorName: e && e.name,
          ms: Date.now() - t0,
          leaked: tf.memory().numTensors - at,
        }) + '\n',
      );
    }
  }
  process.stdout.write(JSON.stringify({ tensors: tf.memory().numTensors - before }) + '\n');
})();
