// Small models whose attention is one of ONNX Runtime's fused ops, each with an unfused twin of
// the same weights written as MatMul and Softmax: the twin's tapped attention is what the fused
// model's capture must give. Test fixtures, generated when needed.
import { seededNormals } from '../../analysis/seededRandom';
import { ONNX_FLOAT, ONNX_FLOAT16, ONNX_INT32, ONNX_INT64 } from '../onnxGraph';
import { EncodedModel, GraphBuilder } from './onnxBuilder';
import { float16Bits, floatOfHalf } from '../onnxEncoding';

/** 'MatMulNBits': the unfused attention with its projections in 4-bit blocks, as int4 exports store them */
export type AttentionForm = 'unfused' | 'Attention' | 'MultiHeadAttention' | 'GroupQueryAttention' | 'MatMulNBits';

export interface FusedModelShape {
  layers: number;
  heads: number;
  /** key/value heads: fewer than heads shares them between query heads (GroupQueryAttention) */
  kvHeads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
  causal: boolean;
  /** GroupQueryAttention's local_window_size: the keys a query sees, its own included */
  window?: number;
  softcap?: number;
  /** weights and activations in float16 (the fused op computes in float16) */
  float16?: boolean;
  /** LayerNorm after each residual (BERT's post-norm), as real models keep their activations bounded */
  layerNorm?: boolean;
  /** a feed-forward block of this width after each attention (GELU), as a whole transformer layer has */
  intermediate?: number;
  /** GroupQueryAttention's smooth softmax: a zero logit beside every row, so rows sum to less than 1 (the twin has a plain softmax) */
  smoothSoftmax?: boolean;
  /** GroupQueryAttention fed one packed [queries | keys | values] input, key and value left out */
  packedQkv?: boolean;
  /** how the Attention form gets its mask: [batch, keys] (2d, the default), key counts [batch] (1d), or [batch, queries, keys] (3d) */
  maskFormat?: '1d' | '2d' | '3d';
  /** rotary position embedding on queries and keys (com.microsoft RotaryEmbedding, or GroupQueryAttention's do_rotary); biases are zero */
  rotary?: boolean;
  /** projection weights rounded to 4-bit blocks: every form uses their dequantised values, the 'MatMulNBits' form the blocks */
  int4?: boolean;
}

const INT4_BLOCK = 16;
const ONNX_UINT8 = 2;

/** A [K, N] weight matrix in MatMulNBits' 4-bit blocks along K (zero point 8), and the values they stand for. */
export function int4Blocks(w: Float32Array, K: number, N: number): { packed: Uint8Array; scales: Float32Array; dequantised: Float32Array } {
  const blocks = Math.ceil(K / INT4_BLOCK);
  const blob = INT4_BLOCK / 2;
  const packed = new Uint8Array(N * blocks * blob);
  const scales = new Float32Array(N * blocks);
  const dequantised = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let largest = 0;
      for (let k = b * INT4_BLOCK; k < Math.min(K, (b + 1) * INT4_BLOCK); k++) largest = Math.max(largest, Math.abs(w[k * N + n]));
      const scale = Math.fround(largest / 7 || 1);
      scales[n * blocks + b] = scale;
      for (let k = b * INT4_BLOCK; k < Math.min(K, (b + 1) * INT4_BLOCK); k++) {
        const q = Math.max(0, Math.min(15, Math.round(w[k * N + n] / scale) + 8));
        dequantised[k * N + n] = (q - 8) * scale;
        const within = k - b * INT4_BLOCK;
        packed[(n * blocks + b) * blob + (within >> 1)] |= within & 1 ? q << 4 : q;
      }
    }
  }
  return { packed, scales, dequantised };
}

export const TINY_FUSED_SHAPE: FusedModelShape = { layers: 2, heads: 4, kvHeads: 4, headDim: 8, vocab: 64, maxPositions: 32, causal: false };

/** The model in the given form; every form of one shape and seed computes the same function. */
export function fusedAttentionModel(shape: FusedModelShape, form: AttentionForm, seed = 'fused'): EncodedModel {
  const { heads, kvHeads, headDim } = shape;
  const hidden = heads * headDim;
  const kvWidth = kvHeads * headDim;
  const perKv = heads / kvHeads;
  const g = new GraphBuilder(`${form} attention`);
  const half = !!shape.float16 && form === 'GroupQueryAttention';
  const weight = (name: string, dims: number[], data: Float32Array): string => (half ? g.halves(name, dims, data) : g.floats(name, dims, data));
  // A float16 model's twin has the same weights: rounded to float16 in every form.
  const rounded = (v: Float32Array): Float32Array => (shape.float16 ? Float32Array.from(float16Bits(v), floatOfHalf) : v);
  const normal = (count: number, name: string, scale: number): Float32Array => rounded(seededNormals(count, `${seed} ${name}`).map((v) => v * scale));
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', ONNX_INT64, ['batch', 'sequence']);
  let x = g.node('Gather', [weight('tokens', [shape.vocab, hidden], normal(shape.vocab * hidden, 'tokens', 1)), ids]);
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1], [1]), g.ints('two', [1], [2])]);
  const positions = g.node('Slice', [weight('positions', [shape.maxPositions, hidden], normal(shape.maxPositions * hidden, 'positions', 1)), g.ints('zero', [1], [0]), seqLen, g.ints('axis0', [1], [0])]);
  x = g.node('Add', [x, positions]);
  const mask32 = g.node('Cast', [mask], { to: ONNX_INT32 });
  if (shape.rotary) {
    const half = headDim / 2;
    const angle = (p: number, i: number): number => p * 10000 ** (-(2 * i) / headDim);
    g.floats('cos_cache', [shape.maxPositions, half], Float32Array.from({ length: shape.maxPositions * half }, (_, k) => Math.cos(angle(Math.floor(k / half), k % half))));
    g.floats('sin_cache', [shape.maxPositions, half], Float32Array.from({ length: shape.maxPositions * half }, (_, k) => Math.sin(angle(Math.floor(k / half), k % half))));
    g.ints('rotary_start', [1], [0]);
  }
  // queries and keys [batch, positions, count * headDim] rotated as the model's rotary embedding does
  const rotated = (t: string, count: number): string =>
    shape.rotary ? g.node('RotaryEmbedding', [t, 'rotary_start', 'cos_cache', 'sin_cache'], { num_heads: count }, undefined, 1, 'com.microsoft') : t;
  const maskIndex = (): string => {
    if (shape.maskFormat === '1d') return g.node('ReduceSum', [mask32, g.ints(g.fresh('axes'), [1], [1])], { keepdims: 0 });
    // queries and keys both padded: the outer product of the mask with itself
    if (shape.maskFormat === '3d') return g.node('Mul', [g.node('Unsqueeze', [mask32, g.ints(g.fresh('axes'), [1], [2])]), g.node('Unsqueeze', [mask32, g.ints(g.fresh('axes'), [1], [1])])]);
    return mask32;
  };
  const headsShape = (count: number): string => `heads${count}`;
  g.ints(headsShape(heads), [4], [0, 0, heads, headDim]);

  for (let l = 0; l < shape.layers; l++) {
    const w = (name: string, cols: number): Float32Array => {
      const v = normal(hidden * cols, `${name}${l}`, 1 / Math.sqrt(hidden));
      return shape.int4 ? int4Blocks(v, hidden, cols).dequantised : v;
    };
    const b = (name: string, cols: number): Float32Array => (shape.rotary ? new Float32Array(cols) : normal(cols, `${name}${l}`, 0.1));
    const [wq, wk, wv] = [w('q', hidden), w('k', kvWidth), w('v', kvWidth)];
    const [bq, bk, bv] = [b('bq', hidden), b('bk', kvWidth), b('bv', kvWidth)];
    const at = `/layers.${l}/attention`;
    let context: string;
    if (form === 'Attention') {
      const packed = new Float32Array(hidden * 3 * hidden);
      for (let r = 0; r < hidden; r++) {
        packed.set(wq.subarray(r * hidden, (r + 1) * hidden), r * 3 * hidden);
        packed.set(wk.subarray(r * hidden, (r + 1) * hidden), r * 3 * hidden + hidden);
        packed.set(wv.subarray(r * hidden, (r + 1) * hidden), r * 3 * hidden + 2 * hidden);
      }
      const bias = new Float32Array([...bq, ...bk, ...bv]);
      context = g.node(
        'Attention',
        [x, g.floats(`qkv${l}`, [hidden, 3 * hidden], packed), g.floats(`qkv_bias${l}`, [3 * hidden], bias), maskIndex()],
        { num_heads: heads, ...(shape.causal ? { unidirectional: 1 } : {}) },
        `${at}/Attention`,
        1,
        'com.microsoft',
      );
    } else if (form === 'MultiHeadAttention') {
      const proj = (wt: Float32Array, name: string): string => g.node('MatMul', [x, g.floats(`${name}${l}`, [hidden, hidden], wt)]);
      context = g.node(
        'MultiHeadAttention',
        [rotated(proj(wq, 'wq'), heads), rotated(proj(wk, 'wk'), heads), proj(wv, 'wv'), g.floats(`qkv_bias${l}`, [3 * hidden], new Float32Array([...bq, ...bk, ...bv])), mask32],
        { num_heads: heads, ...(shape.causal ? { unidirectional: 1 } : {}) },
        `${at}/MultiHeadAttention`,
        1,
        'com.microsoft',
      );
    } else if (form === 'GroupQueryAttention') {
      const proj = (wt: Float32Array, bt: Float32Array, cols: number, name: string): string =>
        g.node('Add', [g.node('MatMul', [x, weight(`${name}${l}`, [hidden, cols], wt)]), weight(`b${name}${l}`, [cols], bt)]);
      const seqlensK = g.node('Sub', [g.node('ReduceSum', [mask32, g.ints(`axes${l}`, [1], [1])], { keepdims: 0 }), g.node('Cast', [g.ints(`one${l}`, [], [1])], { to: ONNX_INT32 })]);
      const total = g.node('Cast', [g.node('Gather', [g.node('Shape', [mask]), g.ints(`index${l}`, [], [1])])], { to: ONNX_INT32 });
      const [q, k, v] = [proj(wq, bq, hidden, 'wq'), proj(wk, bk, kvWidth, 'wk'), proj(wv, bv, kvWidth, 'wv')];
      const qkv = shape.packedQkv ? [g.node('Concat', [q, k, v], { axis: -1 }), '', ''] : [q, k, v];
      context = g.nodeOutputs(
        'GroupQueryAttention',
        [...qkv, '', '', seqlensK, total, ...(shape.rotary ? ['cos_cache', 'sin_cache'] : [])],
        {
          num_heads: heads,
          kv_num_heads: kvHeads,
          ...(shape.rotary ? { do_rotary: 1 } : {}),
          ...(shape.window ? { local_window_size: shape.window } : {}),
          ...(shape.softcap ? { softcap: { float: shape.softcap } } : {}),
          ...(shape.smoothSoftmax ? { smooth_softmax: 1 } : {}),
        },
        `${at}/GroupQueryAttention`,
        3,
        'com.microsoft',
      )[0];
    } else {
      // The twin: keys and values of a shared head repeated for each query head of its group.
      const repeated = (wt: Float32Array, bt: Float32Array): [Float32Array, Float32Array] => {
        const wr = new Float32Array(hidden * hidden);
        const br = new Float32Array(hidden);
        for (let h = 0; h < heads; h++) {
          const src = Math.floor(h / perKv) * headDim;
          for (let r = 0; r < hidden; r++) wr.set(wt.subarray(r * kvWidth + src, r * kvWidth + src + headDim), r * hidden + h * headDim);
          br.set(bt.subarray(src, src + headDim), h * headDim);
        }
        return [wr, br];
      };
      const linear = (wt: Float32Array, bt: Float32Array, name: string): string => {
        if (form !== 'MatMulNBits') return g.node('Add', [g.node('MatMul', [x, g.floats(`${name}${l}`, [hidden, hidden], wt)]), g.floats(`b${name}${l}`, [hidden], bt)]);
        const { packed, scales } = int4Blocks(wt, hidden, hidden);
        const blocks = Math.ceil(hidden / INT4_BLOCK);
        const product = g.node(
          'MatMulNBits',
          [x, g.raw(`${name}${l}.q4`, [hidden, blocks, INT4_BLOCK / 2], ONNX_UINT8, packed), g.floats(`${name}${l}.scales`, [hidden * blocks], scales)],
          { K: hidden, N: hidden, bits: 4, block_size: INT4_BLOCK },
          undefined,
          1,
          'com.microsoft',
        );
        return g.node('Add', [product, g.floats(`b${name}${l}`, [hidden], bt)]);
      };
      const split = (t: string, perm: number[]): string => g.node('Transpose', [g.node('Reshape', [t, headsShape(heads)])], { perm });
      const q = split(rotated(linear(wq, bq, 'wq'), heads), [0, 2, 1, 3]);
      const kT = split(rotated(linear(...repeated(wk, bk), 'wk'), heads), [0, 2, 3, 1]);
      const v = split(linear(...repeated(wv, bv), 'wv'), [0, 2, 1, 3]);
      let scores = g.node('Div', [g.node('MatMul', [q, kT], {}, `${at}/MatMul`), g.scalar(Math.sqrt(headDim))]);
      if (shape.softcap) scores = g.node('Mul', [g.node('Tanh', [g.node('Div', [scores, g.scalar(shape.softcap)])]), g.scalar(shape.softcap)]);
      const padding = g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [g.scalar(1), g.node('Cast', [mask], { to: ONNX_FLOAT })]), g.scalar(-10000)]), g.ints(`axes12_${l}`, [2], [1, 2])]);
      scores = g.node('Add', [scores, padding]);
      if (shape.causal || shape.window) {
        // keys after the query, and keys a window or more before it, are hidden
        const P = shape.maxPositions;
        const hide = new Float32Array(P * P);
        for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) if (j > i || (shape.window && j <= i - shape.window)) hide[i * P + j] = -1e9;
        const square = g.node('Slice', [g.floats(`causal${l}`, [P, P], hide), g.ints(`z${l}`, [2], [0, 0]), g.node('Concat', [seqLen, seqLen], { axis: 0 }), g.ints(`ax${l}`, [2], [0, 1])]);
        scores = g.node('Add', [scores, square]);
      }
      const probs = g.node('Softmax', [scores], { axis: -1 }, `${at}/Softmax`);
      context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), g.ints(`merged${l}`, [3], [0, 0, hidden])]);
    }
    const norm = (t: string, name: string): string =>
      shape.layerNorm ? g.node('LayerNormalization', [t, weight(`${name}.weight`, [hidden], new Float32Array(hidden).fill(1)), weight(`${name}.bias`, [hidden], new Float32Array(hidden))], { axis: -1, epsilon: { float: 1e-5 } }) : t;
    x = norm(g.node('Add', [x, context]), `ln${l}`);
    if (shape.intermediate) {
      const width = shape.intermediate;
      const h1 = g.node('MatMul', [x, weight(`ff1.${l}`, [hidden, width], normal(hidden * width, `ff1${l}`, 1 / Math.sqrt(hidden)))]);
      // GELU as exported: 0.5 x (1 + erf(x / sqrt 2))
      const gelu = g.node('Mul', [g.node('Mul', [h1, g.node('Add', [g.node('Erf', [g.node('Div', [h1, weight(`sqrt2.${l}`, [], Float32Array.of(Math.SQRT2))])]), weight(`one.${l}`, [], Float32Array.of(1))])]), weight(`half.${l}`, [], Float32Array.of(0.5))]);
      x = norm(g.node('Add', [x, g.node('MatMul', [gelu, weight(`ff2.${l}`, [width, hidden], normal(width * hidden, `ff2${l}`, 1 / Math.sqrt(width)))])]), `ln_ff${l}`);
    }
  }
  g.node('Identity', [x], {}, 'last_hidden_state');
  g.output('last_hidden_state_output', half ? ONNX_FLOAT16 : ONNX_FLOAT, ['batch', 'sequence', hidden]);
  return g.encode({ opset: 17 });
}
