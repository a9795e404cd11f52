/**
 * Jest's node environment, plus the outer realm's typed-array constructors.
 *
 * Why: jest runs each test file in a vm context with its own Float32Array & co., while native
 * addons (onnxruntime-node) create their results in Node's main realm; onnxruntime-common then
 * rejects them with `instanceof Float32Array` ("A float32 tensor's data must be type of
 * Float32Array"). jest-environment-node already shares ArrayBuffer and Uint8Array this way;
 * this shares the other typed arrays so the ONNX engine runs under jest as it does in Node.
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class NodeEnvironmentSharedTypedArrays extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = NodeEnvironmentSharedTypedArrays;
