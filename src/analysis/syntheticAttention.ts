// Synthetic attention for the tests and the bench: softmax rows of seeded normals, and a capture of such
// layers over tokens with [CLS], [SEP] and punctuation, so that every statistic has work to do.
import type { AttentionCapture, LayerAttention } from './attentionCapture';
import { seededNormals } from './seededRandom';

/** [heads][n][n] probabilities: each row a softmax of seeded normals at temperature 1/2. */
export function randomAttention(seed: string, heads: number, n: number): LayerAttention {
  const probs = seededNormals(heads * n * n, seed);
  for (let r = 0; r < heads * n; r++) {
    const row = probs.subarray(r * n, (r + 1) * n);
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, row[j]);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += row[j] = Math.exp(2 * (row[j] - max));
    for (let j = 0; j < n; j++) row[j] /= sum;
  }
  return { name: seed, heads, queries: n, keys: n, probs };
}

/** A capture of these layers (all of n keys): [CLS] first, [SEP] last, '.' at every ninth token. */
export function randomCapture(layers: LayerAttention[]): AttentionCapture {
  const n = layers[0].keys;
  return {
    tokens: Array.from({ length: n }, (_, i) => (i === 0 ? '[CLS]' : i === n - 1 ? '[SEP]' : i % 9 ? 'w' : '.')),
    inputIds: [],
    offsets: [],
    layerIndices: layers.map((_, i) => i),
    layers,
    executionProvider: 'cpu',
    warnings: [],
  };
}
