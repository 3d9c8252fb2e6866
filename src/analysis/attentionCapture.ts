// The captured attention of one text: what every analysis reads.

/** Per-head vectors, [heads][positions][dims] row-major. */
export interface HeadVectors {
  heads: number;
  positions: number;
  dims: number;
  data: Float32Array;
}

export interface LayerAttention {
  name: string;
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
  /** index into the model's layers of each captured layer */
  layerIndices: number[];
  layers: LayerAttention[];
  executionProvider: string;
  /** what was done on the user's behalf: text cut, provider fallback, fused layers skipped */
  warnings: string[];
}
