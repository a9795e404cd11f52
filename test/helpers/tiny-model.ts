/**
 * The tiny AnomalyBERT the CLI tests train, as `anomaly-lab train` flags: 8 tokens × patch 4 =
 * window 32, width 16, 1 layer, 2 heads — milliseconds per step on cpu. One definition so the
 * training, hardening and report tests train the same model unless they say otherwise.
 */
export function tinyModelFlags(o: { patchSize?: number; dEmbed?: number } = {}): string[] {
  return [
    '--n_features',
    '8',
    '--patch_size',
    String(o.patchSize ?? 4),
    '--d_embed',
    String(o.dEmbed ?? 16),
    '--n_layer',
    '1',
    '--n_head',
    '2',
  ];
}
