// What every capture test checks of a layer's probabilities.
import type { LayerAttention } from '../../src/analysis/attentionCapture';

/** The largest distance of a row's sum from 1. */
export function worstRowSumError(l: LayerAttention): number {
  let worst = 0;
  for (let r = 0; r < l.heads * l.queries; r++) {
    let s = 0;
    for (let k = 0; k < l.keys; k++) s += l.probs[r * l.keys + k];
    worst = Math.max(worst, Math.abs(s - 1));
  }
  return worst;
}

/** The mass queries put on later keys: 0 for causal attention. */
export function futureMass(l: LayerAttention): number {
  let m = 0;
  for (let h = 0; h < l.heads; h++) for (let q = 0; q < l.queries; q++) for (let k = q + 1; k < l.keys; k++) m += l.probs[(h * l.queries + q) * l.keys + k];
  return m;
}
