// What a language model predicts from its own logits: the most probable tokens at each [MASK]
// (a masked LM, as exBERT shows them) or after the last token (a causal LM).

export interface TokenProbability {
  id: number;
  probability: number;
}

export interface TokenPrediction {
  /** the position whose logits give the prediction: the [MASK] itself, or a causal model's last token */
  position: number;
  /** mask: what fills the [MASK]; next: what follows the last token */
  kind: 'mask' | 'next';
  top: ({ token: string } & TokenProbability)[];
}

/** How many predictions each position reports. */
export const PREDICTED_TOKENS = 5;

/** The mask tokens of BERT's WordPiece and of RoBERTa's and others' byte-level BPE. */
const isMaskToken = (token: string): boolean => token === '[MASK]' || token === '<mask>';

/** Each [MASK]'s position; with none, a causal model's last position, whose logits predict the next token (`causal` is asked only then). */
export function predictedPositions(tokens: readonly string[], causal: () => boolean): { position: number; kind: 'mask' | 'next' }[] {
  const masks = tokens.flatMap((t, position) => (isMaskToken(t) ? [{ position, kind: 'mask' as const }] : []));
  return masks.length || tokens.length === 0 || !causal() ? masks : [{ position: tokens.length - 1, kind: 'next' }];
}

/**
 * The k most probable ids of one row of logits, most probable first (on a tie the lower id
 * first). The row is overwritten with its softmax, the largest logit subtracted first so that
 * exp cannot overflow; -Infinity and NaN logits get 0 and are never listed, so a row of
 * nothing else has no prediction ([]). The probabilities are the float64 quotients, so that k
 * of them never sum past 1.
 */
export function topProbabilities(row: Float32Array, k: number): TokenProbability[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  if (max === -Infinity) return [];
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    // v === max first: a +Infinity logit takes the mass (Infinity - Infinity would be NaN)
    const e = v === max ? 1 : v > -Infinity ? Math.exp(v - max) : 0;
    row[i] = e;
    // the sum of the stored (float32) values, so that the quotients below sum to 1
    sum += row[i];
  }
  const ids = new Int32Array(k);
  const probs = new Float64Array(k);
  let held = 0;
  for (let i = 0; i < row.length; i++) {
    const p = row[i] / sum;
    row[i] = p;
    // a token of probability 0 (a -Infinity logit, or an underflow) is no prediction
    if (!(p > 0) || (held === k && !(p > probs[k - 1]))) continue;
    // insertion into the k held: an equal probability stays after the lower id held before it
    let j = held < k ? held++ : k - 1;
    while (j > 0 && p > probs[j - 1]) {
      probs[j] = probs[j - 1];
      ids[j] = ids[j - 1];
      j--;
    }
    probs[j] = p;
    ids[j] = i;
  }
  return Array.from({ length: held }, (_, j) => ({ id: ids[j], probability: probs[j] }));
}

/** One prediction in words, as the panel and the command line show it: `[MASK] at 5: "paris" 0.41, "," 0.12, …` (quoted: tokens may be punctuation or spaces). */
export function predictionLine(p: TokenPrediction, tokens: readonly string[]): string {
  const where = p.kind === 'mask' ? `${tokens[p.position]} at ${p.position}` : `next after ${p.position} (${tokens[p.position]})`;
  return `${where}: ${p.top.map((t) => `${JSON.stringify(t.token)} ${t.probability.toPrecision(2)}`).join(', ')}`;
}
