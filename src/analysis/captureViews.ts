// What a view of a capture receives: summaries first, one head's matrix when asked.
import type { AttentionCapture } from './attentionCapture';

export function captureSummary(modelPath: string, capture: AttentionCapture) {
  return {
    modelPath,
    executionProvider: capture.executionProvider,
    tokens: capture.tokens,
    layers: capture.layers.map((l) => ({ name: l.name, heads: l.heads })),
    warnings: capture.warnings,
  };
}

/** One head of a captured layer ([queries][keys], a copy), or undefined when out of range. */
export function headMatrix(capture: AttentionCapture, layer: number, head: number) {
  const l = capture.layers[layer];
  if (!l || head >= l.heads) return undefined;
  const size = l.queries * l.keys;
  return { layer, head, queries: l.queries, keys: l.keys, probs: l.probs.slice(head * size, (head + 1) * size) };
}
