/** `anomaly-lab power inspect`: a detector's architecture (Keras .h5 or detector dir) as JSON. */
import { BACKEND_OPTION } from '../../backend-choices';
import { defineOptions } from '../../browser/index';
import { parseCommandArgs } from '../args';
import { POWER_COMMANDS } from '../registry';

const SPECS = defineOptions({
  detector: { kind: 'string', required: true, help: 'Keras .h5 file or detector directory' },
  backend: BACKEND_OPTION,
});

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab power inspect --detector <.h5|dir>', POWER_COMMANDS.inspect.summary);
  if (!options) return 0;
  const { initBackend, tf } = await import('../../backend.js');
  const { loadDetector } = await import('../../power/index.js');
  await initBackend({ backend: options.backend, log: false });
  const d = await loadDetector(options.detector);
  const layers = d.model.layers.map((l) => {
    const weights = l.getWeights();
    return {
      name: l.name,
      class_name: l.getClassName(),
      output_shape: l.outputShape,
      weight_shapes: weights.map((w) => w.shape),
      // Sum of |w| shows trained values arrived (a zero-initialised import would print 0).
      weight_abs_sum: weights.reduce((s, w) => s + tf.tidy(() => tf.sum(tf.abs(w)).dataSync()[0]), 0),
    };
  });
  const report = {
    source: d.source,
    sequence_length: d.sequenceLength,
    input_shape: d.model.inputs[0].shape,
    output_shape: d.model.outputs[0].shape,
    parameters: d.model.countParams(),
    has_scaler: Boolean(d.scaler),
    layers,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  d.model.dispose();
  return 0;
}
