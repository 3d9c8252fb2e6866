// com.microsoft Attention has no output for its probabilities: in the tapped copy the fused node
// is replaced by the standard ops it stands for (packed QKV projection, heads, scaled Q K^T,
// mask, Softmax, x V, heads merged), whose Softmax is tapped like any other. The loaded model
// checks the rewrite against the original graph's outputs before showing anything.
import type { AttentionTap } from './attentionTap';
import { GraphPatch } from './graphPatch';
import { OnnxModel, OnnxNode, ONNX_BOOL, ONNX_FLOAT, ONNX_FLOAT16, ONNX_INT64, producers, tensorElemType } from './onnxGraph';

/** The dims the graph declares for a tensor: a graph input's, a recorded shape's, or an initializer's. */
export const declaredDims = (model: OnnxModel, tensor: string): (number | string | null)[] | undefined =>
  model.inputs.find((i) => i.name === tensor)?.dims ?? model.valueInfo.get(tensor)?.dims ?? model.initializers.get(tensor)?.dims;

/** The rank of a tensor where the graph tells it: inputs, initializers, recorded shapes, or through casts. */
export function rankOf(model: OnnxModel, tensor: string, producer: Map<string, OnnxNode>, depth = 0): number | undefined {
  const known = declaredDims(model, tensor);
  if (known) return known.length;
  const p = producer.get(tensor);
  if (!p || depth > 16) return undefined;
  if (p.opType === 'Cast' || p.opType === 'Identity') return rankOf(model, p.inputs[0], producer, depth + 1);
  // EmbedLayerNormalization's second output is the mask index: one key count per batch row
  if (p.opType === 'EmbedLayerNormalization' && p.outputs[1] === tensor) return 1;
  if (p.opType === 'ReduceSum' && p.attributes.get('keepdims')?.i === 0) {
    const r = rankOf(model, p.inputs[0], producer, depth + 1);
    return r === undefined ? undefined : r - 1;
  }
  if (p.opType === 'Unsqueeze') {
    const r = rankOf(model, p.inputs[0], producer, depth + 1);
    const added = p.attributes.get('axes')?.ints?.length ?? model.initializers.get(p.inputs[1] ?? '')?.dims[0];
    return r === undefined || added === undefined ? undefined : r + added;
  }
  // elementwise: the broadcast of its inputs
  if (['Mul', 'Add', 'Sub', 'And', 'Or', 'Where'].includes(p.opType)) {
    const ranks = p.inputs.map((i) => rankOf(model, i, producer, depth + 1));
    return ranks.some((r) => r === undefined) ? undefined : Math.max(...(ranks as number[]));
  }
  return undefined;
}

const FLOAT_LOWEST = -3.4028234663852886e38;
const HALF_LOWEST = -65504;

/** Unsqueeze as the graph's opset has it: axes an attribute before opset 13, an input from it. */
const unsqueezedIn = (g: GraphPatch, opset: number, x: string, axes: number[]): string => (opset >= 13 ? g.op('Unsqueeze', [x, g.ints(axes)]) : g.op('Unsqueeze', [x], { axes }));

/**
 * A keep mask (nonzero or true: kept) as scores to add, `axes` unsqueezed: 0 at kept keys,
 * the op's mask_filter_value at the others, as its kernel adds it (exporters write the float
 * type's lowest value, which float16 cannot hold: it is clamped to the type's).
 */
export function additiveMask(g: GraphPatch, keep: string, filterValue: number, floatType: number, opset: number, axes: number[]): string {
  const filter = Math.max(filterValue, floatType === ONNX_FLOAT16 ? HALF_LOWEST : FLOAT_LOWEST);
  const kept = g.op('Cast', [g.op('Cast', [keep], { to: ONNX_BOOL })], { to: floatType });
  return unsqueezedIn(g, opset, g.op('Mul', [g.op('Sub', [g.float(1), kept]), g.float(filter)]), axes);
}

export function unfusedAttention(model: OnnxModel, n: OnnxNode, index: number, name: string, nodeName: string): AttentionTap | { reason: string } {
  const attr = (k: string): number | undefined => n.attributes.get(k)?.i;
  const heads = attr('num_heads') ?? 0;
  const refuse = (what: string): { reason: string } => ({
    reason: `this Attention node uses ${what}, which Attention Lens cannot yet rewrite into standard operators; export an unfused model to see this layer`,
  });
  if (heads <= 0) return refuse('no num_heads attribute');
  if (attr('do_rotary') === 1) return refuse('do_rotary=1 (rotary embedding inside the op)');
  if (attr('past_present_share_buffer') === 1) return refuse('past_present_share_buffer=1 (a shared cache buffer)');
  if (n.inputs[4]) return refuse('a past key/value input (a decoder cache)');
  if (n.inputs[6]) return refuse('a past_sequence_length input');
  const opset = model.opsets.get('') ?? 0;
  const causal = attr('unidirectional') === 1;
  if (opset < 11) return refuse(`opset ${opset} (the rewrite needs opset 11 or later)`);
  if (causal && opset < 14) return refuse(`unidirectional=1 at opset ${opset} (the causal mask needs Trilu, opset 14)`);

  const weights = model.initializers.get(n.inputs[1]);
  const floatType = (weights?.dataType ?? tensorElemType(model, n.inputs[0])) === ONNX_FLOAT16 ? ONNX_FLOAT16 : ONNX_FLOAT;
  const projected = weights?.dims.length === 2 ? weights.dims[1] : undefined;
  const sizes = n.attributes.get('qkv_hidden_sizes')?.ints ?? (projected !== undefined && projected % 3 === 0 ? [projected / 3, projected / 3, projected / 3] : undefined);
  if (!sizes || sizes.length !== 3 || sizes.some((s) => s <= 0 || s % heads !== 0)) {
    return refuse(projected === undefined ? 'weights that are not a stored [hidden, 3 x hidden] matrix' : `qkv sizes ${sizes?.join(', ') ?? projected} that do not split into ${heads} heads`);
  }
  const [qSize, kSize, vSize] = sizes;
  if (qSize !== kSize) return refuse(`query and key sizes that differ (${qSize}, ${kSize})`);
  const producer = producers(model);
  const mask = n.inputs[3] ?? '';
  const maskRank = mask ? rankOf(model, mask, producer) : 0;
  if (maskRank === undefined) return refuse('a mask_index whose shape the graph does not record');
  if (maskRank === 4) return refuse('a 4-D (Megatron) mask_index');

  const headDim = qSize / heads;
  const scale = n.attributes.get('scale')?.f || 1 / Math.sqrt(headDim);
  const lowest = floatType === ONNX_FLOAT16 ? HALF_LOWEST : FLOAT_LOWEST;
  const filter = n.attributes.get('mask_filter_value')?.f ?? -10000;
  const g = new GraphPatch(`${nodeName}/attention_lens_${index}`, floatType);
  let qkv = g.op('MatMul', [n.inputs[0], n.inputs[1]]);
  if (n.inputs[2]) qkv = g.op('Add', [qkv, n.inputs[2]]);
  const lastAxis = g.ints([-1]);
  const part = (from: number, to: number): string => g.op('Slice', [qkv, g.ints([from]), g.ints([to]), lastAxis]);
  const toHeads = (x: string, dim: number, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, heads, dim])])], { perm });
  const q = toHeads(part(0, qSize), headDim, [0, 2, 1, 3]);
  const kT = toHeads(part(qSize, qSize + kSize), headDim, [0, 2, 3, 1]);
  const v = toHeads(part(qSize + kSize, qSize + kSize + vSize), vSize / heads, [0, 2, 1, 3]);
  const unsqueezed = (x: string, axes: number[]): string => unsqueezedIn(g, opset, x, axes);
  const additive = (keep: string, axes: number[]): string => additiveMask(g, keep, filter, floatType, opset, axes);
  let keyMask: string | undefined; // [batch, 1, 1, keys]
  if (maskRank === 1) {
    // key counts per batch row: key j is kept when j < count
    const keys = g.op('Gather', [g.op('Shape', [n.inputs[0]]), g.ints([1], true)]);
    const positions = g.op('Range', [g.ints([0], true), keys, g.ints([1], true)]);
    const counts = g.op('Cast', [g.op('Reshape', [mask, g.ints([-1, 1])])], { to: ONNX_INT64 });
    keyMask = additive(g.op('Less', [unsqueezed(positions, [0]), counts]), [1, 2]);
  } else if (maskRank === 2) {
    keyMask = additive(mask, [1, 2]);
  }
  // the scale on the queries ([heads, n, d]), not on the scores ([heads, n, n]): one pass less over n^2
  let scaledQ = g.op('Mul', [q, g.float(scale)]);
  let keyOperand = kT;
  if (keyMask) {
    // A mask per key rides in the score MatMul as one more dimension, a 1 on every query and the
    // mask's value on every key: no pass over the n x n scores. A kept key's term is 1 x 0, so its
    // score is the plain product's to the bit.
    const ones = g.op('Expand', [g.float(1), g.op('Shape', [g.op('Slice', [scaledQ, g.ints([0]), g.ints([1]), lastAxis])])]);
    scaledQ = g.op('Concat', [scaledQ, ones], { axis: -1 });
    keyOperand = g.op('Concat', [kT, g.op('Expand', [keyMask, g.ints([1, heads, 1, 1])])], { axis: 2 });
  }
  let scores = g.op('MatMul', [scaledQ, keyOperand]);
  if (n.inputs[5]) scores = g.op('Add', [scores, n.inputs[5]]);
  if (maskRank === 3) scores = g.op('Add', [scores, additive(mask, [1])]);
  // The causal mask sets later keys to the lowest float (it is not added); it is built on one
  // head's [n, n] and broadcast over the batch and heads.
  if (causal) {
    const oneHead = g.op('Slice', [scores, g.ints([0, 0]), g.ints([1, 1]), g.ints([0, 1])]);
    const ones = g.op('Add', [g.op('Mul', [oneHead, g.float(0)]), g.float(1)]);
    const later = g.op('Cast', [g.op('Trilu', [ones, g.ints([1], true)], { upper: 1 })], { to: ONNX_BOOL });
    scores = g.op('Where', [later, g.float(lowest), scores]);
  }
  const probs = g.op('Softmax', [scores], { axis: -1 }, `${nodeName}/attention_lens_${index}/Softmax`);
  const context = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
  g.op('Reshape', [context, g.ints([0, 0, vSize])], {}, n.outputs[0]);
  if (n.outputs[1]) {
    const k = g.op('Transpose', [kT], { perm: [0, 1, 3, 2] });
    g.op('Concat', [unsqueezed(k, [0]), unsqueezed(v, [0])], { axis: 0 }, n.outputs[1]);
  }
  return {
    name,
    softmaxNode: nodeName,
    probsTensor: probs,
    queryTensor: q,
    keyTensor: kT,
    keyOperandIsTransposed: true,
    replace: { node: index, with: g.nodes },
    initializers: g.initializers,
    site: { op: 'com.microsoft.Attention', kind: 'self', unfused: true, ...(n.inputs[5] ? { attentionBias: true } : {}) },
  };
}
