// A small decoder whose self-attention is com.microsoft DecoderMaskedMultiHeadAttention, as ONNX
// Runtime's beam-search exports write it: one token per run (int32 ids and mask), its keys and
// values in shared cache buffers of a fixed length (past_present_share_buffer=1) written at
// past_sequence_length. Also the op's cross-attention alone, on keys and values given per head.
// Test fixtures, generated when needed.
import { seededNormals } from '../../analysis/seededRandom';
import { ONNX_FLOAT, ONNX_INT32 } from '../onnxGraph';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export interface MaskedDecoderShape {
  layers: number;
  heads: number;
  headDim: number;
  vocab: number;
  /** the cache buffers' length */
  maxPositions: number;
}

export const TINY_MASKED_DECODER: MaskedDecoderShape = { layers: 2, heads: 2, headDim: 8, vocab: 40, maxPositions: 16 };

/** The decoder's weights: what the graph holds, and what a test computes its reference from. */
export interface MaskedDecoderWeights {
  tokens: Float32Array; // [vocab, hidden]
  positions: Float32Array; // [maxPositions, hidden]
  layers: { wq: Float32Array; wk: Float32Array; wv: Float32Array; wo: Float32Array; bias: Float32Array }[]; // [hidden, hidden]; bias [3 hidden]
}

export function maskedDecoderWeights(shape: MaskedDecoderShape, seed = 'masked decoder'): MaskedDecoderWeights {
  const hidden = shape.heads * shape.headDim;
  const normal = (count: number, name: string, scale: number): Float32Array => seededNormals(count, `${seed} ${name}`).map((v) => v * scale);
  const square = (name: string): Float32Array => normal(hidden * hidden, name, 1 / Math.sqrt(hidden));
  return {
    tokens: normal(shape.vocab * hidden, 'tokens', 1),
    positions: normal(shape.maxPositions * hidden, 'positions', 1),
    layers: Array.from({ length: shape.layers }, (_, l) => ({ wq: square(`wq${l}`), wk: square(`wk${l}`), wv: square(`wv${l}`), wo: square(`wo${l}`), bias: normal(3 * hidden, `bias${l}`, 0.1) })),
  };
}

export function maskedDecoder(shape: MaskedDecoderShape, opts: { sharedBuffer?: boolean; seed?: string } = {}): EncodedModel {
  const { heads, headDim, maxPositions } = shape;
  const hidden = heads * headDim;
  const w = maskedDecoderWeights(shape, opts.seed);
  const g = new GraphBuilder('masked decoder');
  const ids = g.input('input_ids', ONNX_INT32, ['batch', 1]);
  const positions = g.input('position_ids', ONNX_INT32, ['batch', 1]);
  const mask = g.input('attention_mask', ONNX_INT32, ['batch', 'total_sequence_length']);
  const pastLength = g.input('past_sequence_length', ONNX_INT32, [1]);
  let x = g.node('Add', [g.node('Gather', [g.floats('embed_tokens', [shape.vocab, hidden], w.tokens), ids]), g.node('Gather', [g.floats('embed_positions', [maxPositions, hidden], w.positions), positions])]);
  const cacheDims = ['batch', heads, maxPositions, headDim];
  w.layers.forEach((layer, l) => {
    const at = `/model/layers.${l}/self_attn`;
    const project = (name: string, weights: Float32Array): string => g.node('MatMul', [x, g.floats(`${name}.${l}`, [hidden, hidden], weights)]);
    const cache = (kind: string): string => g.input(`past_key_values.${l}.${kind}`, ONNX_FLOAT, cacheDims);
    const [pastKey, pastValue] = [cache('key'), cache('value')];
    const [context, presentKey, presentValue] = g.nodeOutputs(
      'DecoderMaskedMultiHeadAttention',
      [project('q_proj', layer.wq), project('k_proj', layer.wk), project('v_proj', layer.wv), mask, '', pastKey, pastValue, pastLength, '', '', g.floats(`qkv_bias.${l}`, [3 * hidden], layer.bias)],
      { num_heads: heads, past_present_share_buffer: opts.sharedBuffer === false ? 0 : 1 },
      `${at}/DecoderMaskedMultiHeadAttention`,
      [`${at}/output`, `present.${l}.key`, `present.${l}.value`],
      'com.microsoft',
    );
    g.output(presentKey, ONNX_FLOAT, cacheDims);
    g.output(presentValue, ONNX_FLOAT, cacheDims);
    x = g.node('Add', [x, g.node('MatMul', [context, g.floats(`o_proj.${l}`, [hidden, hidden], layer.wo)])]);
  });
  g.nodeOutputs('Identity', [x], {}, undefined, ['last_hidden_state']);
  g.output('last_hidden_state', ONNX_FLOAT, ['batch', 1, hidden]);
  return g.encode({ opset: 17 });
}

/** One DecoderMaskedMultiHeadAttention node as cross-attention: a query [1, 1, heads x d] on keys and values [1, heads, keys, d] given whole. */
export function maskedCrossAttention(heads: number, headDim: number, keys: number): EncodedModel {
  const g = new GraphBuilder('masked cross-attention');
  const hidden = heads * headDim;
  const query = g.input('query', ONNX_FLOAT, [1, 1, hidden]);
  const perHead = [1, heads, keys, headDim];
  const key = g.input('encoder_key', ONNX_FLOAT, perHead);
  const value = g.input('encoder_value', ONNX_FLOAT, perHead);
  g.nodeOutputs('DecoderMaskedMultiHeadAttention', [query, key, value], { num_heads: heads }, 'cross_attn/DecoderMaskedMultiHeadAttention', ['context'], 'com.microsoft');
  g.output('context', ONNX_FLOAT, [1, 1, hidden]);
  return g.encode({ opset: 17 });
}
