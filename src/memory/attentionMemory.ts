// What attention costs: floats, bytes and FLOPs of dense attention and of six efficient
// methods, from a model's shape. Formulas and reference figures: shared/docs/METHODS.md.
// Pure: every count is closed-form, so absurd sizes cost nothing to estimate.
import { bandScores, fixedScores, fixedSummaryColumns, stridedScores } from '../analysis/patternCounts';

export type Dtype = 'fp32' | 'fp16' | 'bf16' | 'int8';
/** inference: the prefill of n tokens (the peak); decode: one new token over n cached; training: the forward pass kept for the backward */
export type Mode = 'inference' | 'decode' | 'training';
export const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'bf16', 'int8'];
export const MODES: readonly Mode[] = ['inference', 'decode', 'training'];

export const DTYPE_BYTES: Record<Dtype, number> = { fp32: 4, fp16: 2, bf16: 2, int8: 1 };
// Mixed-precision Adam: 16-bit weights and gradients, fp32 master weights, momentum and variance (ZeRO, Rajbhandari et al. 2020).
export const TRAINING_BYTES_PER_PARAMETER = 16;

/** Multi-head latent attention (DeepSeek-V2/V3): the cache holds a compressed latent and one shared rope key per token. */
export interface LatentAttention {
  kvLoraRank: number;
  ropeHeadDim: number;
  /** the value head dimension (the query/key head dimension is the shape's headDim: nope + rope) */
  valueHeadDim: number;
}

/** An encoder-decoder's decoder: self-attention over the target, cross-attention to the encoder's n positions. */
export interface DecoderStack {
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** target positions */
  seq: number;
}

export interface AttentionShape {
  layers: number;
  heads: number;
  /** key/value heads: fewer than heads for grouped-query or multi-query attention */
  kvHeads: number;
  /** the query/key head dimension */
  headDim: number;
  hidden: number;
  seq: number;
  batch: number;
  dtype: Dtype;
  mode: Mode;
  /** decoders attend to earlier positions only */
  causal: boolean;
  /** windowed layers attend to at most this many positions: their cache keeps as many */
  slidingWindow?: number;
  /** the layers (0-based) that have the window; all of them when absent */
  windowedLayers?: number[];
  /** key/value heads of each layer, where the config gives them per layer */
  kvHeadsPerLayer?: number[];
  latent?: LatentAttention;
  /** an encoder-decoder's decoder (the shape's own layers are then its encoder) */
  decoder?: DecoderStack;
  /** a FlashAttention-style kernel: probabilities are never materialised */
  fusedKernel?: boolean;
  /** the weights, counted from the config's sizes, when it gives them */
  parameters?: number;
  /** bits a weight is stored in, when quantised (4 for GPTQ/AWQ/bitsandbytes 4-bit) */
  weightBits?: number;
  /** the MLP's hidden size (intermediate_size), for one layer's activations */
  mlpHidden?: number;
  /** the output's width (vocab_size): the logits a run ends with */
  vocab?: number;
  /** the kernel holds its scores in fp32 whatever the dtype (ONNX Runtime's CPU GroupQueryAttention) */
  float32Scores?: boolean;
}

/** One kind of attention in the model, each its own row: a decoder's self-attention, an encoder's, cross-attention. */
export interface AttentionPart {
  part: 'self' | 'encoderSelf' | 'decoderSelf' | 'cross';
  layers: number;
  /** positions a layer's queries and keys stand at (in the mode: one query when decoding) */
  queries: number;
  keys: number;
  /** layers whose keys are cut to a window */
  windowedLayers: number;
  /** the largest layer's scores (all heads, the batch) */
  scoresFloatsPerLayer: number;
  scoresFloatsAllLayers: number;
  /** the keys and values this part keeps between decoding steps */
  kvCacheBytes: number;
}

export interface DenseEstimate {
  queriesFloatsPerLayer: number;
  keysFloatsPerLayer: number;
  valuesFloatsPerLayer: number;
  /** the model's own attention (windows, cross-attention included): its largest layer's scores */
  attentionFloatsPerLayer: number;
  attentionBytesPerLayer: number;
  attentionFloatsAllLayers: number;
  attentionBytesAllLayers: number;
  /** Korthikanti et al. 2022: s b H (34 + 5 a s / H) bytes per layer, activations in 16-bit */
  activationBytesPerLayer: number;
  /** its 5 a s^2 b term: attention scores, softmax output and dropout mask */
  activationAttentionBytesPerLayer: number;
  /** every key/value cache (decoder self-attention and cross-attention); 0 for an encoder, which keeps none */
  kvCacheBytes: number;
  /** multiply-adds x 2 of Q K^T and A V */
  flopsPerLayer: number;
  parts: AttentionPart[];
  /** the scores one layer holds at a time in the mode: 0 with a fused kernel */
  transientScoresBytes: number;
  /** one layer's activations at inference: hidden states, Q K V and the MLP's hidden */
  layerActivationBytes: number;
  /** the logits a run ends with (queries x vocab, in fp32 as runtimes give them); 0 where the config gives no vocab_size */
  logitsBytes: number;
  /** every layer's activations kept for the backward pass (Korthikanti, 16-bit), the probabilities unless a fused kernel recomputes them */
  trainingActivationBytes: number;
  /** of which the attention terms (scores, probabilities, dropout mask): 0 with a fused kernel */
  trainingAttentionBytes: number;
  /** the weights in their dtype (or quantised bits); with Adam's states in training; undefined when the config lacks the sizes */
  weightBytes?: number;
  /** what the mode needs at its peak: weights + KV cache + one layer's scores and activations or the logits, the larger (inference), or + every layer's activations (training) */
  peakBytes: number;
}

export type MethodName = 'strided' | 'fixed' | 'local' | 'adaptiveSpan' | 'lsh' | 'routing' | 'transformerXL' | 'compressive';
export const METHOD_NAMES: readonly MethodName[] = ['strided', 'fixed', 'local', 'adaptiveSpan', 'lsh', 'routing', 'transformerXL', 'compressive'];

export interface MethodParams {
  /** strided: stride l (default round(sqrt n)) */
  stride?: number;
  /** fixed: block l (default round(sqrt n)) and summary columns c (default max(1, round(l / 8))) */
  block?: number;
  summary?: number;
  /** local: each query sees keys with |i - j| <= window (default 128) */
  window?: number;
  /** adaptive span: spans z per head, or one mean span (default 100); ramp R (default 32) */
  spans?: number[];
  meanSpan?: number;
  ramp?: number;
  /** LSH: hash rounds (default 4), chunk length (default 64), reversible layers (default true) */
  hashes?: number;
  chunk?: number;
  reversible?: boolean;
  /** routing: clusters k (default round(sqrt n)), share of heads that route (default 0.5, the rest local with routingWindow, default 256) */
  clusters?: number;
  routingShare?: number;
  routingWindow?: number;
  /** Transformer-XL and compressive: segment (default min(n, 512)), memory m (default the segment) */
  segment?: number;
  memory?: number;
  /** compressive: compressed memory n_cm (default m) and rate c (default 3) */
  compressedMemory?: number;
  rate?: number;
}

export interface MethodEstimate {
  params: Record<string, number | boolean>;
  /** scores a layer computes and keeps (all heads, the batch) */
  attentionFloatsPerLayer: number;
  /** scores of every layer plus any memory cache the method holds, in bytes */
  bytesAllLayers: number;
  flopsPerLayer: number;
  /** the longest distance between tokens that information can cross, in tokens */
  longestDependency: number;
  /** how the figure was simplified, when it was */
  note?: string;
}

export interface MemoryEstimate {
  shape: AttentionShape;
  dense: DenseEstimate;
  methods: Record<MethodName, MethodEstimate>;
}

export class EstimateError extends Error {}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new EstimateError(`${name} must be a positive whole number, not ${v}`);
  return v;
}

// Per-layer and per-head values are listed: beyond this no model has as many, and no list could hold them.
const MAX_LAYERS_OR_HEADS = 2 ** 20;

export function validShape(s: AttentionShape): AttentionShape {
  for (const k of ['layers', 'heads', 'kvHeads', 'headDim', 'hidden', 'seq', 'batch'] as const) positive(k, s[k]);
  for (const k of ['layers', 'heads'] as const) if (s[k] > MAX_LAYERS_OR_HEADS) throw new EstimateError(`${k} must be at most ${MAX_LAYERS_OR_HEADS}, not ${s[k]}`);
  if (s.heads % s.kvHeads !== 0) throw new EstimateError(`heads (${s.heads}) must be a multiple of key/value heads (${s.kvHeads})`);
  if (!(s.dtype in DTYPE_BYTES)) throw new EstimateError(`dtype must be one of ${DTYPES.join(', ')}, not ${s.dtype}`);
  if (!MODES.includes(s.mode)) throw new EstimateError(`mode must be one of ${MODES.join(', ')}, not ${s.mode}`);
  if (s.slidingWindow !== undefined) positive('sliding window', s.slidingWindow);
  if (s.decoder) for (const k of ['layers', 'heads', 'kvHeads', 'headDim', 'seq'] as const) positive(`decoder ${k}`, s.decoder[k]);
  return s;
}

/** Keys one token's cache holds in a layer of `kvHeads` heads: a latent and a rope key under MLA. */
const cachedFloatsPerToken = (s: AttentionShape, kvHeads: number): number =>
  s.latent ? s.latent.kvLoraRank + s.latent.ropeHeadDim : kvHeads * (s.headDim + s.headDim);

/** The self-attention of the shape's own layers: windowed layers see min(n, w) keys. */
function selfPart(s: AttentionShape, bytes: number): AttentionPart {
  const { layers: L, heads: h, seq: n, batch: b } = s;
  const queries = s.mode === 'decode' ? 1 : n;
  const windowed = s.slidingWindow !== undefined && s.slidingWindow < n ? (s.windowedLayers?.length ?? L) : 0;
  const windowKeys = Math.min(n, s.slidingWindow ?? n);
  const keysOf = (layer: number): number => (windowed && (!s.windowedLayers || s.windowedLayers.includes(layer)) ? windowKeys : n);
  // the cache, per layer when the config gives key/value heads per layer, else in closed form
  const cachedFloats = s.kvHeadsPerLayer
    ? s.kvHeadsPerLayer.reduce((sum, kv, layer) => sum + cachedFloatsPerToken(s, kv) * keysOf(layer), 0)
    : cachedFloatsPerToken(s, s.kvHeads) * ((L - windowed) * n + windowed * windowKeys);
  const encoder = !s.causal || s.decoder !== undefined;
  return {
    part: s.decoder ? 'encoderSelf' : 'self',
    layers: L,
    queries,
    keys: windowed === L ? windowKeys : n,
    windowedLayers: windowed,
    scoresFloatsPerLayer: b * h * queries * (windowed === L ? windowKeys : n),
    scoresFloatsAllLayers: b * h * queries * ((L - windowed) * n + windowed * windowKeys),
    kvCacheBytes: encoder ? 0 : cachedFloats * b * bytes,
  };
}

/** An encoder-decoder's decoder self-attention and its cross-attention to the encoder's n positions; both keep a cache. */
function decoderParts(s: AttentionShape, dec: DecoderStack, bytes: number): AttentionPart[] {
  const queries = s.mode === 'decode' ? 1 : dec.seq;
  const part = (kind: 'decoderSelf' | 'cross', keys: number): AttentionPart => ({
    part: kind,
    layers: dec.layers,
    queries,
    keys,
    windowedLayers: 0,
    scoresFloatsPerLayer: s.batch * dec.heads * queries * keys,
    scoresFloatsAllLayers: dec.layers * s.batch * dec.heads * queries * keys,
    kvCacheBytes: 2 * dec.layers * dec.kvHeads * dec.headDim * keys * s.batch * bytes,
  });
  return [part('decoderSelf', dec.seq), part('cross', s.seq)];
}

export function denseEstimate(s: AttentionShape): DenseEstimate {
  const { layers: L, heads: h, kvHeads, headDim: d, hidden: H, seq: n, batch: b } = validShape(s);
  const bytes = DTYPE_BYTES[s.dtype];
  const valueDim = s.latent?.valueHeadDim ?? d;
  const queries = s.mode === 'decode' ? 1 : n;
  const parts = [selfPart(s, bytes), ...(s.decoder ? decoderParts(s, s.decoder, bytes) : [])];
  const self = parts[0];
  const largestFloats = Math.max(...parts.map((p) => p.scoresFloatsPerLayer));
  const allFloats = parts.reduce((sum, p) => sum + p.scoresFloatsAllLayers, 0);
  const kvCacheBytes = parts.reduce((sum, p) => sum + p.kvCacheBytes, 0);
  // Korthikanti's attention term 5 a s k b over the keys each layer sees; a fused kernel recomputes it in the backward pass
  const attentionTerm = (heads: number, q: number, keys: number): number => (s.fusedKernel ? 0 : 5 * heads * q * keys * b);
  const windowKeys = Math.min(n, s.slidingWindow ?? n);
  let trainingAttentionBytes = (L - self.windowedLayers) * attentionTerm(h, n, n) + self.windowedLayers * attentionTerm(h, n, windowKeys);
  let trainingActivationBytes = L * 34 * n * b * H;
  if (s.decoder) {
    trainingAttentionBytes += s.decoder.layers * attentionTerm(s.decoder.heads, s.decoder.seq, s.decoder.seq + n);
    trainingActivationBytes += s.decoder.layers * 34 * s.decoder.seq * b * H;
  }
  trainingActivationBytes += trainingAttentionBytes;
  const transientScoresBytes = s.fusedKernel ? 0 : largestFloats * (s.float32Scores ? 4 : bytes);
  const layerActivationBytes = queries * b * (2 * H + (h + 2 * kvHeads) * d + 2 * (s.mlpHidden ?? 4 * H)) * bytes;
  // an encoder-decoder's logits are its decoder's
  const logitsBytes = (s.decoder && s.mode !== 'decode' ? s.decoder.seq : queries) * b * (s.vocab ?? 0) * 4;
  const weightBytes =
    s.parameters === undefined ? undefined : s.mode === 'training' ? s.parameters * TRAINING_BYTES_PER_PARAMETER : (s.parameters * (s.weightBits ?? bytes * 8)) / 8;
  return {
    queriesFloatsPerLayer: b * h * d * queries,
    keysFloatsPerLayer: b * (s.latent ? h : kvHeads) * d * n,
    valuesFloatsPerLayer: b * (s.latent ? h : kvHeads) * valueDim * n,
    attentionFloatsPerLayer: largestFloats,
    attentionBytesPerLayer: largestFloats * bytes,
    attentionFloatsAllLayers: allFloats,
    attentionBytesAllLayers: allFloats * bytes,
    activationBytesPerLayer: n * b * H * (34 + (5 * h * n) / H),
    activationAttentionBytesPerLayer: 5 * h * n * n * b,
    kvCacheBytes,
    flopsPerLayer: 2 * self.scoresFloatsPerLayer * (d + valueDim),
    parts,
    transientScoresBytes,
    layerActivationBytes,
    logitsBytes,
    trainingActivationBytes,
    trainingAttentionBytes,
    ...(weightBytes === undefined ? {} : { weightBytes }),
    peakBytes:
      // at inference the last layer's activations are gone when the logits are made: the larger of the two
      (weightBytes ?? 0) + (s.mode === 'training' ? trainingActivationBytes : kvCacheBytes + Math.max(transientScoresBytes + layerActivationBytes, logitsBytes)),
  };
}

export function methodEstimates(s: AttentionShape, p: MethodParams = {}): Record<MethodName, MethodEstimate> {
  const { layers: L, heads: h, headDim: d, hidden: H, seq: n, batch: b, causal } = validShape(s);
  const bytes = DTYPE_BYTES[s.dtype];
  const sqrtN = Math.max(1, Math.round(Math.sqrt(n)));
  const of = (scoresPerHead: number, params: MethodEstimate['params'], longest: number, extra: Partial<MethodEstimate> = {}): MethodEstimate => {
    const floats = b * h * scoresPerHead;
    return {
      params,
      attentionFloatsPerLayer: floats,
      bytesAllLayers: L * floats * bytes,
      flopsPerLayer: 4 * floats * d,
      longestDependency: Math.min(longest, Number.MAX_SAFE_INTEGER),
      ...extra,
    };
  };

  const stride = positive('stride', p.stride ?? sqrtN);
  const block = positive('block', p.block ?? sqrtN);
  const summary = positive('summary', p.summary ?? fixedSummaryColumns(block));
  if (summary > block) throw new EstimateError(`summary columns (${summary}) cannot exceed the block (${block})`);
  const window = positive('window', p.window ?? Math.min(128, n));
  const ramp = positive('ramp', p.ramp ?? 32);
  const spans = p.spans ?? Array(h).fill(p.meanSpan ?? 100);
  if (spans.length !== h) throw new EstimateError(`${spans.length} spans given for ${h} heads`);
  spans.forEach((z) => positive('span', z));
  const hashes = positive('hashes', p.hashes ?? 4);
  const chunk = positive('chunk', p.chunk ?? Math.min(64, n));
  const reversible = p.reversible ?? true;
  const clusters = positive('clusters', p.clusters ?? sqrtN);
  const share = p.routingShare ?? 0.5;
  if (!(share >= 0 && share <= 1)) throw new EstimateError(`routing share must lie in [0, 1], not ${share}`);
  const routingWindow = positive('routing window', p.routingWindow ?? Math.min(256, n));
  const segment = positive('segment', p.segment ?? Math.min(n, 512));
  const memory = positive('memory', p.memory ?? segment);
  const compressed = positive('compressed memory', p.compressedMemory ?? memory);
  const rate = positive('rate', p.rate ?? 3);

  // Reformer's chunks: the first chunk sees itself, every later one itself and the one before.
  const chunks = Math.ceil(n / chunk);
  const lshScores = hashes * chunk * chunk * (2 * chunks - 1);
  const lsh = of(lshScores, { hashes, chunk, buckets: Math.max(2, 2 * Math.round(chunks / 2)), reversible }, n, {
    note: 'scores of n_hashes rounds over sorted chunks (each chunk and the one before)',
  });
  if (reversible && s.mode === 'training') lsh.bytesAllLayers = lsh.attentionFloatsPerLayer * bytes;

  const spanScores = spans.reduce((sum, z) => sum + bandScores(n, Math.min(n - 1, z + ramp - 1), causal), 0) / h;
  const routedScores = (n * n) / clusters;
  // Segment recurrence: each segment's queries see the memory and the segment so far.
  const xlScores = memory * segment + bandScores(segment, segment - 1, true);
  const cacheBytes = (slots: number): number => L * slots * b * H * bytes;
  const xl = of(xlScores, { segment, memory }, L * segment, { note: 'per segment; the memory holds each layer\'s hidden states' });
  xl.bytesAllLayers += cacheBytes(memory);
  const compressive = of(xlScores + compressed * segment, { segment, memory, compressedMemory: compressed, rate }, L * (memory + rate * compressed), {
    note: 'per segment; memory and compressed memory hold hidden states of every layer',
  });
  compressive.bytesAllLayers += cacheBytes(memory + compressed);

  return {
    strided: of(stridedScores(n, stride, causal), { stride }, L >= 2 ? n : stride),
    fixed: of(fixedScores(n, block, summary, causal), { block, summary }, L >= 2 ? n : block),
    local: of(bandScores(n, window, causal), { window }, L * window),
    adaptiveSpan: of(spanScores, { meanSpan: spans.reduce((a, z) => a + z, 0) / h, ramp }, L * Math.max(...spans.map((z) => z + ramp))),
    lsh,
    routing: of(share * routedScores + (1 - share) * bandScores(n, routingWindow, causal), { clusters, routingShare: share, routingWindow }, n, {
      note: 'balanced clusters of n/k; the other heads attend locally',
    }),
    transformerXL: xl,
    compressive,
  };
}

export function memoryEstimate(s: AttentionShape, p: MethodParams = {}): MemoryEstimate {
  return { shape: s, dense: denseEstimate(s), methods: methodEstimates(s, p) };
}
