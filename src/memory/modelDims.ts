// A model's attention geometry from the keys configs use for it (Hugging Face, onnxruntime-genai,
// PyTorch): sizes, windows and which layers have them, latent caches, an encoder-decoder's two
// stacks, the dtype and quantisation of the weights. The README's table lists every rule and its keys.
import { AttentionShape, DTYPES, Dtype, LatentAttention, Mode } from './attentionMemory';

export interface StackDims {
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  maxPositions?: number;
}

export interface ModelDims {
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  hidden?: number;
  maxPositions?: number;
  /** windowed layers attend to the last `slidingWindow` positions (Mistral, Phi-3, Gemma's local layers): their cache holds as many */
  slidingWindow?: number;
  /** the layers with the window, when not all of them have it */
  windowedLayers?: number[];
  kvHeadsPerLayer?: number[];
  latent?: LatentAttention;
  /** an encoder-decoder's decoder (the dimensions above are its encoder's) */
  decoder?: StackDims;
  /** torch_dtype (or dtype) */
  dtype?: Dtype;
  /** quantised weights' bits (quantization_config) */
  weightBits?: number;
  parameters?: number;
  mlpHidden?: number;
  /** the kernel holds its scores in fp32 whatever the dtype (onnxruntime-genai's GroupQueryAttention on the CPU) */
  float32Scores?: boolean;
  /** the output's width (vocab_size): a language model's logits are n x vocab at the end of a run */
  vocab?: number;
  /** the config asks for a fused kernel (attn_implementation flash/sdpa, an onnxruntime-genai export) */
  fusedKernel?: boolean;
  /** a decoder: attention to earlier positions only */
  causal: boolean;
}

type DimKey = 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'hidden' | 'maxPositions';

// The names each dimension goes by; the first one present wins.
export const DIM_KEYS: Record<DimKey, readonly string[]> = {
  layers: ['num_hidden_layers', 'n_layers', 'n_layer', 'num_layers', 'num_encoder_layers', 'encoder_layers'],
  heads: ['num_attention_heads', 'n_heads', 'n_head', 'num_heads', 'nhead', 'encoder_attention_heads'],
  kvHeads: ['num_key_value_heads', 'num_kv_heads', 'n_kv_heads'],
  headDim: ['head_dim', 'd_kv', 'kv_channels', 'head_size'],
  hidden: ['hidden_size', 'd_model', 'n_embd', 'dim', 'embed_dim'],
  maxPositions: ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_seq_len', 'max_seq_length', 'seq_length', 'block_size', 'max_source_positions', 'context_length'],
};
// An encoder-decoder's decoder: its own keys first, else the encoder's (T5's num_decoder_layers defaults to num_layers).
const DECODER_KEYS: Record<Exclude<DimKey, 'hidden'>, readonly string[]> = {
  layers: ['num_decoder_layers', 'decoder_layers'],
  heads: ['decoder_attention_heads'],
  kvHeads: [],
  headDim: [],
  maxPositions: ['max_target_positions'],
};
const MLP_KEYS = ['intermediate_size', 'd_ff', 'ffn_dim', 'encoder_ffn_dim', 'n_inner', 'hidden_dim', 'ffn_hidden_size'];
/** Every other key an estimate reads (windows, MLA, the decoder, dtype, weights): the hover answers on their lines too. */
export const GEOMETRY_KEYS: readonly string[] = [
  'sliding_window', 'use_sliding_window', 'layer_types', 'sliding_window_pattern', 'attention_chunk_size', 'max_window_layers', 'kv_lora_rank',
  'qk_rope_head_dim', 'qk_nope_head_dim', 'v_head_dim', ...Object.values(DECODER_KEYS).flat(), 'torch_dtype', 'quantization_config', 'vocab_size', ...MLP_KEYS,
];

const KNOWN_KEYS = new Set(Object.values(DIM_KEYS).flat());
const DECODER_TYPES = /^(gpt|llama|mistral|mixtral|qwen|gemma|phi|falcon|opt|bloom|gpt_neox|gptj|codegen|mpt|starcoder|olmo|deepseek|cohere|granite|internlm|baichuan|chatglm|stablelm)/i;
// Feed-forward layers with a gate (SwiGLU, GeGLU): three matrices instead of two.
const GATED_TYPES = /^(llama|mistral|mixtral|qwen|gemma|phi3|deepseek|olmo|cohere|granite|internlm|baichuan|stablelm)/i;

export const isDimKey = (key: string): boolean => KNOWN_KEYS.has(key.toLowerCase());

/** A dtype named as configs and trainers name it ("bfloat16", "bf16-mixed", "fp16"). */
export function dtypeOf(name: unknown): Dtype | undefined {
  if (typeof name !== 'string') return undefined;
  const v = name.toLowerCase();
  if (/bf16|bfloat16/.test(v)) return 'bf16';
  if (/fp16|float16|half|^16/.test(v)) return 'fp16';
  if (/fp32|float32|float$|^32/.test(v)) return 'fp32';
  if (/int8/.test(v)) return 'int8';
  return DTYPES.find((d) => d === v);
}

const whole = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
const firstOf = (lower: ReadonlyMap<string, unknown>, keys: readonly string[]): unknown => keys.map((k) => lower.get(k)).find((v) => v !== undefined && v !== null);
const plain = (v: unknown): ReadonlyMap<string, unknown> | undefined =>
  v instanceof Map ? v : v && typeof v === 'object' && !Array.isArray(v) ? new Map(Object.entries(v)) : undefined;

/** The layers that have a window, read from layer_types or a model's known pattern; undefined: every layer. */
function windowedLayers(lower: ReadonlyMap<string, unknown>, layers: number | undefined, modelType: string): number[] | undefined {
  const types = lower.get('layer_types');
  if (Array.isArray(types)) return types.flatMap((t, i) => (typeof t === 'string' && /sliding|local|chunk/i.test(t) ? [i] : []));
  if (layers === undefined || layers > 10_000) return undefined;
  const all = Array.from({ length: layers }, (_, i) => i);
  // Gemma 2: even layers local, odd layers global
  if (/^gemma2/.test(modelType)) return all.filter((i) => i % 2 === 0);
  // Gemma 3, Cohere 2: every p-th layer global (p = 6 for Gemma 3 unless given)
  const pattern = whole(lower.get('sliding_window_pattern')) ?? (/^gemma3/.test(modelType) ? 6 : undefined);
  if (pattern) return all.filter((i) => (i + 1) % pattern !== 0);
  // Llama 4: layers without rope (no_rope_layers 0, else every 4th) attend globally, the rest in chunks
  if (whole(lower.get('attention_chunk_size'))) {
    const rope = lower.get('no_rope_layers');
    return Array.isArray(rope) ? all.filter((i) => rope[i] !== 0) : all.filter((i) => (i + 1) % 4 !== 0);
  }
  // Qwen 2: the first max_window_layers layers attend globally
  const full = lower.get('max_window_layers');
  if (typeof full === 'number' && Number.isInteger(full) && full >= 0 && full < layers) return all.filter((i) => i >= full);
  return undefined;
}

// What a model type's configuration class fills in when its config.json leaves keys out
// (Hugging Face transformers' defaults): Gemma 3's published text_config names few keys.
const TYPE_DEFAULTS: Record<string, Record<string, number>> = {
  gemma3_text: { num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, max_position_embeddings: 131072, vocab_size: 262208 },
};

function readStack(lower: ReadonlyMap<string, unknown>, dims: ModelDims): void {
  for (const [dim, keys] of Object.entries(DIM_KEYS) as [DimKey, readonly string[]][]) {
    for (const k of keys) {
      const v = lower.get(k);
      if (typeof v === 'number') {
        dims[dim] = v;
        break;
      }
    }
  }
}

/** Dimensions from a config's keys (matched case-insensitively); values that are not positive integers are ignored. */
export function dimsFromValues(values: ReadonlyMap<string, unknown>): ModelDims {
  const lower = new Map<string, unknown>();
  for (const [k, v] of values) lower.set(k.toLowerCase(), v);
  const modelType = String(lower.get('model_type') ?? lower.get('type') ?? '').toLowerCase();
  for (const [k, v] of Object.entries(TYPE_DEFAULTS[modelType] ?? {})) if (!lower.has(k)) lower.set(k, v);
  const dims: ModelDims = { causal: false };
  readStack(lower, dims);
  // key/value heads given per layer (a list): the cache sums them, the shape takes the largest
  const kvList = firstOf(lower, DIM_KEYS.kvHeads);
  if (Array.isArray(kvList) && kvList.length && kvList.every((v) => whole(v))) {
    dims.kvHeadsPerLayer = kvList as number[];
    dims.kvHeads = Math.max(...dims.kvHeadsPerLayer);
  }
  // Falcon's old layout: multi_query with the old decoder has one key/value head whatever
  // num_kv_heads says (transformers' FalconAttention)
  if (lower.get('multi_query') === true && lower.get('new_decoder_architecture') !== true) dims.kvHeads = 1;

  // Windows: sliding_window (genai: sliding_window.window_size) unless use_sliding_window is false;
  // Llama 4's attention_chunk_size holds a chunk at most in the same way.
  const slide = lower.get('sliding_window');
  const window = whole(slide) ?? whole(plain(slide)?.get('window_size')) ?? whole(lower.get('attention_chunk_size'));
  if (window !== undefined && lower.get('use_sliding_window') !== false) {
    dims.slidingWindow = window;
    const windowed = windowedLayers(lower, dims.layers, modelType);
    if (windowed) dims.windowedLayers = windowed;
  }

  // MLA: the cache holds kv_lora_rank + qk_rope_head_dim a token; queries and keys have nope + rope dimensions
  const rank = whole(lower.get('kv_lora_rank'));
  const rope = whole(lower.get('qk_rope_head_dim'));
  const nope = whole(lower.get('qk_nope_head_dim'));
  if (rank && rope && nope) {
    dims.latent = { kvLoraRank: rank, ropeHeadDim: rope, valueHeadDim: whole(lower.get('v_head_dim')) ?? nope };
    dims.headDim = nope + rope;
  }

  // An encoder-decoder: a decoder's own layer count, or is_encoder_decoder
  if (lower.get('is_encoder_decoder') === true || DECODER_KEYS.layers.some((k) => lower.has(k))) {
    const dec: StackDims = {};
    for (const [dim, keys] of Object.entries(DECODER_KEYS) as [keyof StackDims, readonly string[]][]) {
      const v = firstOf(lower, keys);
      const value = typeof v === 'number' ? v : dims[dim];
      if (value !== undefined) dec[dim] = value;
    }
    dims.decoder = dec;
  }

  const dtype = dtypeOf(lower.get('torch_dtype') ?? lower.get('dtype'));
  if (dtype) dims.dtype = dtype;
  const quant = plain(lower.get('quantization_config'));
  if (quant) {
    const bits = whole(quant.get('bits')) ?? (quant.get('load_in_4bit') === true ? 4 : quant.get('load_in_8bit') === true || /fp8/i.test(String(quant.get('quant_method'))) ? 8 : undefined);
    if (bits) dims.weightBits = bits;
  }
  const architectures = lower.get('architectures');
  const implementation = String(lower.get('attn_implementation') ?? lower.get('_attn_implementation') ?? '');
  // onnxruntime-genai exports (head_size beside context_length) run GroupQueryAttention, whose CPU
  // kernel holds a layer's probabilities in fp32 whatever the model's dtype (measured by the profiler)
  const genai = lower.has('head_size') && lower.has('context_length');
  if (genai) dims.float32Scores = true;
  if (/flash|sdpa|flex/i.test(implementation)) dims.fusedKernel = true;
  else if (implementation === 'eager') dims.fusedKernel = false;
  const lmHead = Array.isArray(architectures) && architectures.some((a) => typeof a === 'string' && /ForMaskedLM|CausalLM|LMHead|ForConditionalGeneration|ForPreTraining/.test(a));

  const mlp = whole(firstOf(lower, MLP_KEYS));
  if (mlp) dims.mlpHidden = mlp;
  const vocab = whole(lower.get('vocab_size'));
  // logits only where the architecture has a language-model head (or an onnxruntime-genai decoder)
  if (vocab && (lmHead || genai)) dims.vocab = vocab;
  const parameters = parameterCount(lower, dims, modelType);
  if (parameters) dims.parameters = parameters;

  dims.causal =
    genai ||
    lower.get('is_decoder') === true ||
    (dims.decoder === undefined && DECODER_TYPES.test(modelType)) ||
    (Array.isArray(architectures) && architectures.some((a) => typeof a === 'string' && /CausalLM|LMHeadModel/.test(a)));
  return dims;
}

/** The weights from the sizes (embeddings, attention, MLP, experts), when the config gives vocab_size. */
function parameterCount(lower: ReadonlyMap<string, unknown>, d: ModelDims, modelType: string): number | undefined {
  const vocab = whole(lower.get('vocab_size'));
  const { layers: L, heads: h, hidden: H } = d;
  if (!vocab || !L || !h || !H) return undefined;
  // GPT-2's n_inner null and Falcon's missing size mean 4 H
  const mlpHidden = d.mlpHidden ?? 4 * H;
  const dqk = d.headDim ?? H / h;
  const kv = d.kvHeads ?? h;
  const attention = d.latent
    ? H * h * dqk + H * (d.latent.kvLoraRank + d.latent.ropeHeadDim) + d.latent.kvLoraRank * h * (dqk - d.latent.ropeHeadDim + d.latent.valueHeadDim) + h * d.latent.valueHeadDim * H
    : 2 * H * h * dqk + 2 * H * kv * dqk;
  const gated = GATED_TYPES.test(modelType) || /^gated/.test(String(lower.get('feed_forward_proj') ?? ''));
  const mlp = (size: number): number => (gated ? 3 : 2) * H * size;
  // Mixture of experts: every expert's weights are held; the first first_k_dense_replace layers stay dense
  const experts = whole(firstOf(lower, ['num_local_experts', 'n_routed_experts', 'num_experts']));
  const expertSize = whole(lower.get('moe_intermediate_size')) ?? mlpHidden;
  const dense = Math.min(L, whole(lower.get('first_k_dense_replace')) ?? 0);
  const layerMlp = experts ? dense * mlp(mlpHidden) + (L - dense) * ((experts + (whole(lower.get('n_shared_experts')) ?? 0)) * mlp(expertSize) + H * experts) : L * mlp(mlpHidden);
  const decoder = d.decoder?.layers ? d.decoder.layers * (2 * attention + mlp(mlpHidden)) : 0;
  const embeddings = vocab * H * (lower.get('tie_word_embeddings') === false ? 2 : 1);
  return embeddings + L * attention + layerMlp + decoder;
}

/** What an estimate still needs from these dimensions, in words. */
export function missingDims(d: ModelDims): string[] {
  const missing: string[] = [];
  if (d.layers === undefined) missing.push('the number of layers');
  if (d.heads === undefined) missing.push('the number of attention heads');
  if (d.hidden === undefined && d.headDim === undefined) missing.push('the hidden size or head dimension');
  for (const k of ['layers', 'heads', 'kvHeads', 'headDim', 'hidden', 'maxPositions'] as const) {
    const v = d[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) missing.push(`a positive whole ${k} (it is ${v})`);
  }
  return missing;
}

export interface EstimateSettings {
  /** the sequence length to assume; the config's max positions when absent */
  seq?: number;
  /** 1 when absent */
  batch?: number;
  /** the config's torch_dtype when absent, else fp32 */
  dtype?: Dtype;
  mode: Mode;
  /** a fused attention kernel; the config's choice when absent, else none */
  fusedKernel?: boolean;
}

/** The shape to estimate, or what is missing for one. */
export function attentionShape(d: ModelDims, settings: EstimateSettings): { shape: AttentionShape } | { missing: string[] } {
  const missing = missingDims(d);
  const seq = settings.seq ?? d.maxPositions;
  if (seq === undefined) missing.push('a sequence length (the config has no max positions: set one)');
  if (missing.length) return { missing };
  const heads = d.heads!;
  const headDim = d.headDim ?? d.hidden! / heads;
  if (!Number.isInteger(headDim)) return { missing: [`a head dimension: hidden size ${d.hidden} is not a multiple of ${heads} heads`] };
  const hidden = d.hidden ?? heads * headDim;
  const dec = d.decoder;
  const decHeads = dec?.heads ?? heads;
  const optional: Partial<AttentionShape> = {
    ...(d.slidingWindow ? { slidingWindow: d.slidingWindow } : {}),
    ...(d.slidingWindow && d.windowedLayers ? { windowedLayers: d.windowedLayers } : {}),
    ...(d.kvHeadsPerLayer ? { kvHeadsPerLayer: d.kvHeadsPerLayer } : {}),
    ...(d.latent ? { latent: d.latent } : {}),
    ...(dec
      ? {
          decoder: {
            layers: dec.layers ?? d.layers!,
            heads: decHeads,
            kvHeads: dec.kvHeads ?? decHeads,
            headDim: dec.headDim ?? (d.headDim === undefined ? hidden / decHeads : headDim),
            // the decoder's target: n, at most its positions (Whisper's 448)
            seq: Math.min(seq!, dec.maxPositions ?? seq!),
          },
        }
      : {}),
    ...((settings.fusedKernel ?? d.fusedKernel) ? { fusedKernel: true } : {}),
    ...(d.parameters ? { parameters: d.parameters } : {}),
    ...(d.vocab ? { vocab: d.vocab } : {}),
    ...(d.float32Scores ? { float32Scores: true } : {}),
    ...(d.weightBits ? { weightBits: d.weightBits } : {}),
    ...(d.mlpHidden ? { mlpHidden: d.mlpHidden } : {}),
  };
  return {
    shape: {
      layers: d.layers!,
      heads,
      kvHeads: d.kvHeads ?? heads,
      headDim,
      hidden,
      seq: seq!,
      batch: settings.batch ?? 1,
      dtype: settings.dtype ?? d.dtype ?? 'fp32',
      mode: settings.mode,
      causal: d.causal,
      ...optional,
    },
  };
}
