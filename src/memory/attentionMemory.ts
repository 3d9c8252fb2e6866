// What attention costs: floats, bytes and FLOPs of dense attention and of six efficient
// methods, from a model's shape. Formulas and reference figures: shared/docs/METHODS.md.
// Pure: every count is closed-form, so absurd sizes cost nothing to estimate.
import { bandScores, fixedScores, fixedSummaryColumns, stridedScores } from '../analysis/patternCounts';

export type Dtype = 'fp32' | 'fp16' | 'bf16' | 'int8';
export type Mode = 'inference' | 'training';
export const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'bf16', 'int8'];
export const MODES: readonly Mode[] = ['inference', 'training'];

export const DTYPE_BYTES: Record<Dtype, number> = { fp32: 4, fp16: 2, bf16: 2, int8: 1 };

export interface AttentionShape {
  layers: number;
  heads: number;
  /** key/value heads: fewer than heads for grouped-query or multi-query attention */
  kvHeads: number;
  headDim: number;
  hidden: number;
  seq: number;
  batch: number;
  dtype: Dtype;
  mode: Mode;
  /** decoders attend to earlier positions only */
  causal: boolean;
  /** every layer attends to at most this many earlier positions: the cache keeps as many */
  slidingWindow?: number;
}

export interface DenseEstimate {
  queriesFloatsPerLayer: number;
  keysFloatsPerLayer: number;
  valuesFloatsPerLayer: number;
  attentionFloatsPerLayer: number;
  attentionBytesPerLayer: number;
  attentionFloatsAllLayers: number;
  attentionBytesAllLayers: number;
  /** Korthikanti et al. 2022: s b H (34 + 5 a s / H) bytes per layer, activations in 16-bit */
  activationBytesPerLayer: number;
  /** its 5 a s^2 b term: attention scores, softmax output and dropout mask */
  activationAttentionBytesPerLayer: number;
  /** 2 L n_kv d n b elements of a decoder's key/value cache (n at most its sliding window); 0 for an encoder, which keeps none */
  kvCacheBytes: number;
  /** multiply-adds x 2 of Q K^T and A V */
  flopsPerLayer: number;
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
  if (!Number.isFinite(v) || v <= 0 || !Number.isInteger(v)) throw new EstimateError(`${name} must be a positive whole number, not ${v}`);
  return v;
}

export function validShape(s: AttentionShape): AttentionShape {
  for (const k of ['layers', 'heads', 'kvHeads', 'headDim', 'hidden', 'seq', 'batch'] as const) positive(k, s[k]);
  if (s.heads % s.kvHeads !== 0) throw new EstimateError(`heads (${s.heads}) must be a multiple of key/value heads (${s.kvHeads})`);
  if (!(s.dtype in DTYPE_BYTES)) throw new EstimateError(`dtype must be one of ${DTYPES.join(', ')}, not ${s.dtype}`);
  if (!MODES.includes(s.mode)) throw new EstimateError(`mode must be inference or training, not ${s.mode}`);
  return s;
}

export function denseEstimate(s: AttentionShape): DenseEstimate {
  const { layers: L, heads: h, kvHeads, headDim: d, hidden: H, seq: n, batch: b } = validShape(s);
  const bytes = DTYPE_BYTES[s.dtype];
  const attention = b * h * n * n;
  return {
    queriesFloatsPerLayer: b * h * d * n,
    keysFloatsPerLayer: b * kvHeads * d * n,
    valuesFloatsPerLayer: b * kvHeads * d * n,
    attentionFloatsPerLayer: attention,
    attentionBytesPerLayer: attention * bytes,
    attentionFloatsAllLayers: L * attention,
    attentionBytesAllLayers: L * attention * bytes,
    activationBytesPerLayer: n * b * H * (34 + (5 * h * n) / H),
    activationAttentionBytesPerLayer: 5 * h * n * n * b,
    kvCacheBytes: s.causal ? 2 * L * kvHeads * d * Math.min(n, s.slidingWindow ?? n) * b * bytes : 0,
    flopsPerLayer: 4 * b * h * n * n * d,
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
