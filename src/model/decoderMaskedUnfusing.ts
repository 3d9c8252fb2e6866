// com.microsoft DecoderMaskedMultiHeadAttention's self-attention: one new token per run, its key
// and value written into shared cache buffers [batch, heads, max, d] at past_sequence_length.
// Its qk output would give the scores, but ONNX Runtime's CPU kernel (1.30) reads a
// past_sequence_length of 0 as a full buffer: the first token attends to the whole buffer and
// its key is written past its head's rows. So in the tapped copy the node is replaced by the
// standard ops it stands for, which compute the first token as well; the loaded model checks
// them against the original graph on a later token, where the kernel is right.
import type { AttentionTap } from './attentionTap';
import { additiveMask, declaredDims, rankOf } from './attentionUnfusing';
import { GraphPatch } from './graphPatch';
import { ONNX_FLOAT, ONNX_INT64, OnnxModel, OnnxNode, producers, tensorElemType } from './onnxGraph';

// its inputs, by position (8, beam_width, is read only with cache_indirection)
const QUERY = 0, KEY = 1, VALUE = 2, MASK = 3, ATTENTION_BIAS = 4, PAST_KEY = 5, PAST_VALUE = 6, PAST_LENGTH = 7, CACHE_INDIRECTION = 9, BIAS = 10;
const INT64_MAX = Number.MAX_SAFE_INTEGER;

export function unfusedDecoderMasked(model: OnnxModel, n: OnnxNode, index: number, name: string, nodeName: string): AttentionTap | { reason: string } {
  const given = (i: number): boolean => (n.inputs[i] ?? '') !== '';
  const heads = n.attributes.get('num_heads')?.i ?? 0;
  const refuse = (what: string): { reason: string } => ({ reason: `this DecoderMaskedMultiHeadAttention node ${what}` });
  if (heads <= 0) return refuse('has no num_heads attribute');
  if (given(CACHE_INDIRECTION)) return refuse("takes beam search's cache_indirection (each beam's cache rows reordered), which a capture of one text has no use for: export the decoder without beam search");
  // ONNX Runtime's CPU kernel refuses a self-attention cache that is not one shared buffer
  if ((n.attributes.get('past_present_share_buffer')?.i ?? 0) !== 1) {
    return refuse("keeps its cache with past_present_share_buffer=0, which ONNX Runtime's CPU kernel does not run (it takes the cache only as one shared buffer, past_present_share_buffer=1)");
  }
  if (!given(KEY) || !given(VALUE)) return refuse('takes queries, keys and values packed in one input, which Attention Lens cannot yet rewrite into standard operators');
  if (!given(PAST_VALUE) || !given(PAST_LENGTH)) return refuse('has a shared cache buffer without its past_value or past_sequence_length input');
  const opset = model.opsets.get('') ?? 0;
  if (opset < 11) return refuse(`is in a graph of opset ${opset} (the rewrite needs opset 11 or later)`);
  const headDim = declaredDims(model, n.inputs[PAST_KEY])?.[3];
  if (typeof headDim !== 'number' || headDim <= 0) return refuse(`has a cache ${n.inputs[PAST_KEY]} whose head size the graph does not record`);
  const bias = given(BIAS) ? model.initializers.get(n.inputs[BIAS]) : undefined;
  if (given(BIAS) && bias?.dims.length !== 1) return refuse('has a bias that is not a stored vector');
  const maskRank = given(MASK) ? rankOf(model, n.inputs[MASK], producers(model)) : 0;
  if (maskRank !== 0 && maskRank !== 2) return refuse('has a mask_index that is not [batch, keys] (the only form the kernel takes)');

  const floatType = tensorElemType(model, n.inputs[QUERY]) ?? ONNX_FLOAT;
  const g = new GraphPatch(`${nodeName}/attention_lens_${index}`, floatType);
  const width = bias ? bias.dims[0] / 3 : 0;
  const biased = (x: string, part: number): string => (bias ? g.op('Add', [x, g.op('Slice', [n.inputs[BIAS], g.ints([part * width]), g.ints([(part + 1) * width]), g.ints([0])])]) : x);
  const toHeads = (x: string): string => g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
  const q = toHeads(biased(n.inputs[QUERY], 0));
  // the cache rows before the new token, the new one, and the rest of the buffer as it was
  const past = g.op('Reshape', [g.op('Cast', [n.inputs[PAST_LENGTH]], { to: ONNX_INT64 }), g.ints([1])]);
  const total = g.op('Add', [past, g.ints([1])]);
  const sequenceAxis = g.ints([2]);
  // the present buffers are the node's outputs 1 and 2, where the graph names them
  const written = (cache: string, fresh: string, output: string | undefined): string =>
    g.op('Concat', [g.op('Slice', [cache, g.ints([0]), past, sequenceAxis]), fresh, g.op('Slice', [cache, total, g.ints([INT64_MAX]), sequenceAxis])], { axis: 2 }, output);
  const keys = g.op('Slice', [written(n.inputs[PAST_KEY], toHeads(biased(n.inputs[KEY], 1)), n.outputs[1] || undefined), g.ints([0]), total, sequenceAxis]);
  const values = g.op('Slice', [written(n.inputs[PAST_VALUE], toHeads(biased(n.inputs[VALUE], 2)), n.outputs[2] || undefined), g.ints([0]), total, sequenceAxis]);
  const scale = n.attributes.get('scale')?.f || 1 / Math.sqrt(headDim);
  let scores = g.op('MatMul', [g.op('Mul', [q, g.float(scale)]), g.op('Transpose', [keys], { perm: [0, 1, 3, 2] })]);
  if (given(ATTENTION_BIAS)) scores = g.op('Add', [scores, n.inputs[ATTENTION_BIAS]]);
  if (maskRank === 2) scores = g.op('Add', [scores, additiveMask(g, n.inputs[MASK], n.attributes.get('mask_filter_value')?.f ?? -10000, floatType, opset, [1, 2])]);
  // the op's own qk output, where the graph reads it: the scores before the softmax
  if (n.outputs[3]) g.op('Identity', [scores], {}, n.outputs[3]);
  const probs = g.op('Softmax', [scores], { axis: -1 }, `${nodeName}/attention_lens_${index}/Softmax`);
  g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, values])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, heads * headDim])], {}, n.outputs[0]);
  return {
    name,
    softmaxNode: nodeName,
    probsTensor: probs,
    queryTensor: q,
    keyTensor: keys,
    keyOperandIsTransposed: false,
    replace: { node: index, with: g.nodes },
    initializers: g.initializers,
    site: { op: 'com.microsoft.DecoderMaskedMultiHeadAttention', kind: 'self', unfused: true, ...(given(ATTENTION_BIAS) ? { attentionBias: true } : {}) },
  };
}
