// The predictions of a language model's own output, read from the logits its capture's run
// already fetched: each asked row is copied and reduced to its top tokens at once, so that no
// [positions x vocabulary] array outlives the run or leaves the engine.
import { PREDICTED_TOKENS, TokenPrediction, predictedPositions, topProbabilities } from '../analysis/tokenPredictions';
import { floatOfHalf } from './onnxEncoding';
import type { OrtTensor } from './ortSession';

/** The [1, rows, vocab] logits among a run's outputs (a language model's head), if there are any. */
export function vocabularyLogits(outputs: Record<string, OrtTensor>, names: readonly string[], vocab: number | null): OrtTensor | undefined {
  if (vocab === null) return undefined;
  const fits = (t: OrtTensor | undefined): t is OrtTensor => t?.dims.length === 3 && Number(t.dims[0]) === 1 && Number(t.dims[2]) === vocab && ['float32', 'float16', 'float64'].includes(t.type);
  // a model with several such outputs names its head's
  const named = names.find((n) => /logits/i.test(n) && fits(outputs[n]));
  const name = named ?? names.find((n) => fits(outputs[n]));
  return name === undefined ? undefined : outputs[name];
}

/** Row r of [1, rows, width] logits as a new float32 array (the run's own buffer is left as it was). */
function logitRow(t: OrtTensor, r: number): Float32Array {
  const width = Number(t.dims[2]);
  const [start, end] = [r * width, (r + 1) * width];
  if (t.type === 'float16') return Float32Array.from((t.data as Uint16Array).subarray(start, end), floatOfHalf);
  return Float32Array.from((t.data as Float32Array | Float64Array).subarray(start, end));
}

/**
 * The top tokens at each [MASK] of `tokens`, or with none, of a causal model after its last
 * token. Row r of `logits` holds position firstRow + r (a run one token at a time keeps the last
 * position's row only); positions outside its rows are not predicted.
 */
export function logitPredictions(logits: OrtTensor, firstRow: number, tokens: readonly string[], causal: () => boolean, tokenOf: (id: number) => string): TokenPrediction[] {
  const rows = Number(logits.dims[1]);
  return predictedPositions(tokens, causal)
    .filter(({ position }) => position >= firstRow && position - firstRow < rows)
    .map(({ position, kind }) => ({
      position,
      kind,
      top: topProbabilities(logitRow(logits, position - firstRow), PREDICTED_TOKENS).map((p) => ({ token: tokenOf(p.id), ...p })),
    }));
}
