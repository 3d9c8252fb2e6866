// The captured attention of one text: what every analysis reads.
import type { RepeatedTokensProbe } from './inductionProbe';
import type { TokenPrediction } from './tokenPredictions';

/** Per-head vectors, [heads][positions][dims] row-major. */
export interface HeadVectors {
  heads: number;
  positions: number;
  dims: number;
  data: Float32Array;
}

/**
 * Which attention of an encoder-decoder a layer is: the encoder's self-attention (source x
 * source), the decoder's (target x target, causal) or the decoder's cross-attention (target
 * queries x source keys). A model of one stack has none.
 */
export type AttentionPart = 'encoder' | 'decoder' | 'cross';

export interface LayerAttention {
  name: string;
  part?: AttentionPart;
  heads: number;
  queries: number;
  keys: number;
  /** probabilities [heads][queries][keys] row-major; each row sums to 1 over real keys */
  probs: Float32Array;
  /** the score MatMul's operands, when asked for */
  query?: HeadVectors;
  key?: HeadVectors;
}

export interface AttentionCapture {
  tokens: string[];
  inputIds: number[];
  offsets: [number, number][];
  /** the induction probe, when the tokens are its random ids shown twice instead of a text */
  probe?: RepeatedTokensProbe;
  /** an encoder-decoder's decoder input (its start token, then the target text); `tokens` are the encoder's */
  target?: Side & { inputIds: number[] };
  /** index into the model's layers of each captured layer */
  layerIndices: number[];
  layers: LayerAttention[];
  executionProvider: string;
  /** how the provider was chosen, in one line: the providers auto skipped and why, the GPU */
  executionProviderLine?: string;
  /** a language model's top tokens at each [MASK] (or after a causal model's text), from its logits; absent without them */
  predictions?: TokenPrediction[];
  /** what was done on the user's behalf: text cut, provider fallback, fused layers skipped */
  warnings: string[];
}

/** The tokens a layer's queries and keys stand for: the target's for the decoder's, the source's otherwise. */
export function layerTokens(capture: Side & { target?: Side }, part: AttentionPart | undefined): { queries: Side; keys: Side } {
  const source: Side = { tokens: capture.tokens, offsets: capture.offsets };
  const of = (text: TextName): Side => (text === 'target' ? (capture.target ?? source) : source);
  const texts = layerTexts(part);
  return { queries: of(texts.queries), keys: of(texts.keys) };
}

/** An encoder-decoder's two texts; every other model reads the source only. */
export type TextName = 'source' | 'target';

/** Which text a layer's queries and keys read: the decoder's self-attention the target's, its cross-attention target x source. */
export const layerTexts = (part: AttentionPart | undefined): { queries: TextName; keys: TextName } => ({
  queries: part === 'decoder' || part === 'cross' ? 'target' : 'source',
  keys: part === 'decoder' ? 'target' : 'source',
});

export interface Side {
  tokens: string[];
  offsets: [number, number][];
}
