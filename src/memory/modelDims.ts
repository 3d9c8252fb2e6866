// A model's attention dimensions from the keys configs use for them (Hugging Face, PyTorch).
import { AttentionShape, Dtype, Mode } from './attentionMemory';

export interface ModelDims {
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  hidden?: number;
  maxPositions?: number;
  /** a decoder whose every layer attends to the last `slidingWindow` positions (Mistral, Phi-3): its cache holds as many */
  slidingWindow?: number;
  /** a decoder: attention to earlier positions only */
  causal: boolean;
}

type DimKey = Exclude<keyof ModelDims, 'causal' | 'slidingWindow'>;

// The names each dimension goes by; the first one present wins.
export const DIM_KEYS: Record<DimKey, readonly string[]> = {
  // an encoder-decoder's (BART, Marian, Whisper) are read for its encoder: its decoder and cross-attention are not counted yet
  layers: ['num_hidden_layers', 'n_layers', 'n_layer', 'num_layers', 'num_encoder_layers', 'encoder_layers'],
  heads: ['num_attention_heads', 'n_heads', 'n_head', 'num_heads', 'nhead', 'encoder_attention_heads'],
  kvHeads: ['num_key_value_heads', 'num_kv_heads', 'n_kv_heads'],
  headDim: ['head_dim', 'd_kv', 'kv_channels'],
  hidden: ['hidden_size', 'd_model', 'n_embd', 'dim', 'embed_dim'],
  maxPositions: ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_seq_len', 'max_seq_length', 'seq_length', 'block_size', 'max_source_positions'],
};

const KNOWN_KEYS = new Set(Object.values(DIM_KEYS).flat());
const DECODER_TYPES = /^(gpt|llama|mistral|mixtral|qwen|gemma|phi|falcon|opt|bloom|gpt_neox|gptj|codegen|mpt|starcoder|olmo)/i;

export const isDimKey = (key: string): boolean => KNOWN_KEYS.has(key.toLowerCase());

/** Dimensions from a config's keys (matched case-insensitively); values that are not positive integers are ignored. */
export function dimsFromValues(values: ReadonlyMap<string, unknown>): ModelDims {
  const lower = new Map<string, unknown>();
  for (const [k, v] of values) lower.set(k.toLowerCase(), v);
  const dims: ModelDims = { causal: false };
  for (const [dim, keys] of Object.entries(DIM_KEYS) as [DimKey, readonly string[]][]) {
    for (const k of keys) {
      const v = lower.get(k);
      if (typeof v === 'number') {
        dims[dim] = v;
        break;
      }
    }
  }
  if (dims.kvHeads === undefined && lower.get('multi_query') === true) dims.kvHeads = 1;
  // a window on every layer (sliding_window, unless use_sliding_window says no); configs that
  // alternate windowed and global layers (layer_types, Gemma's pattern) are not read as one
  const window = lower.get('sliding_window');
  const alternating = lower.has('layer_types') || lower.has('sliding_window_pattern') || /^gemma(2|3)/i.test(String(lower.get('model_type') ?? ''));
  if (typeof window === 'number' && Number.isInteger(window) && window > 0 && lower.get('use_sliding_window') !== false && !alternating) dims.slidingWindow = window;
  const modelType = lower.get('model_type');
  const architectures = lower.get('architectures');
  dims.causal =
    lower.get('is_decoder') === true ||
    (typeof modelType === 'string' && DECODER_TYPES.test(modelType)) ||
    (Array.isArray(architectures) && architectures.some((a) => typeof a === 'string' && /CausalLM|LMHeadModel/.test(a)));
  return dims;
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
  batch: number;
  dtype: Dtype;
  mode: Mode;
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
  return {
    shape: {
      layers: d.layers!,
      heads,
      kvHeads: d.kvHeads ?? heads,
      headDim,
      hidden: d.hidden ?? heads * headDim,
      seq: seq!,
      batch: settings.batch,
      dtype: settings.dtype,
      mode: settings.mode,
      causal: d.causal,
      ...(d.slidingWindow ? { slidingWindow: d.slidingWindow } : {}),
    },
  };
}
