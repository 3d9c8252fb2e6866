// ONNX Runtime's fused attention ops (com.microsoft), and how each gives its probabilities:
// GroupQueryAttention returns them when asked (qk_output), MultiHeadAttention returns its scores
// (a Softmax is appended), Attention has no such output and is rewritten into standard ops.
import type { AttentionTap } from './attentionTap';
import { unfusedAttention } from './attentionUnfusing';
import { unfusedDecoderMasked } from './decoderMaskedUnfusing';
import { ONNX_FLOAT, OnnxModel, OnnxNode, producers, reencodedNode, tensorElemType } from './onnxGraph';
import { encodedNode } from './onnxEncoding';
import { GraphPatch } from './graphPatch';

// Operators that compute attention inside one kernel.
export const FUSED_OPS = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderAttention',
  'DecoderMaskedSelfAttention',
  'DecoderMaskedMultiHeadAttention',
  'LongformerAttention',
  'QAttention',
  'QOrderedAttention',
  'SparseAttention',
  'PagedAttention',
  'RotaryEmbeddingAttention',
]);

// Why the others cannot give probabilities: what a user is told.
const NO_PROBABILITIES: Record<string, string> = {
  SparseAttention: 'block-sparse attention computes only the blocks of its layout and has no output for the probabilities',
  PagedAttention: 'paged attention reads its keys from a block table of a serving cache and has no output for the probabilities',
  PackedAttention: 'packed attention removes padding across the batch inside the kernel and has no output for the probabilities',
  PackedMultiHeadAttention: 'packed attention removes padding across the batch inside the kernel and has no output for the probabilities',
  LongformerAttention: "Longformer's sliding-window kernel has no output for the probabilities",
  QAttention: 'quantised attention (int8 weights inside the op) has no output for the probabilities',
  QOrderedAttention: 'quantised attention (int8 weights inside the op) has no output for the probabilities',
  DecoderAttention: 'this decoder attention kernel has no output for the probabilities',
  DecoderMaskedSelfAttention: 'this decoder attention kernel has no output for the probabilities',
  RotaryEmbeddingAttention: 'this kernel has no output for the probabilities',
};

const EXPORT_UNFUSED =
  'export an unfused model (a plain torch.onnx.export, or optimum-cli export onnx without --optimize) to see this layer';

const intAttr = (n: OnnxNode, name: string, fallback: number): number => n.attributes.get(name)?.i ?? fallback;
const floatAttr = (n: OnnxNode, name: string, fallback: number): number => n.attributes.get(name)?.f ?? fallback;
const given = (n: OnnxNode, input: number): boolean => (n.inputs[input] ?? '') !== '';

/** The tap of a fused node, or why it has none. */
export function fusedTap(model: OnnxModel, n: OnnxNode, index: number, name: string): AttentionTap | { reason: string } {
  const nodeName = n.name || n.outputs[0];
  switch (n.opType) {
    case 'GroupQueryAttention':
      return groupQueryTap(n, index, name, nodeName);
    case 'MultiHeadAttention':
      return multiHeadTap(model, n, index, name, nodeName);
    case 'DecoderMaskedMultiHeadAttention':
      // with a past key it is self-attention over its cache; without, cross-attention to keys and values given whole
      return given(n, 5) ? unfusedDecoderMasked(model, n, index, name, nodeName) : multiHeadTap(model, n, index, name, nodeName);
    case 'Attention':
      return unfusedAttention(model, n, index, name, nodeName);
    default:
      return { reason: `${NO_PROBABILITIES[n.opType] ?? 'the kernel has no output for the probabilities'}; ${EXPORT_UNFUSED}` };
  }
}

/** The node's outputs with `name` at `index`, padded with empty (absent) optional outputs. */
function withOutput(n: OnnxNode, index: number, name: string): string[] {
  const outputs = [...n.outputs];
  while (outputs.length <= index) outputs.push('');
  outputs[index] = name;
  return outputs;
}

// GroupQueryAttention: output 3 (output_qk) holds the probabilities when qk_output is 2.
function groupQueryTap(n: OnnxNode, index: number, name: string, nodeName: string): AttentionTap {
  const QK_AFTER_SOFTMAX = 2;
  const heads = intAttr(n, 'num_heads', 0);
  const kvHeads = intAttr(n, 'kv_num_heads', heads);
  const window = intAttr(n, 'local_window_size', -1);
  const softcap = floatAttr(n, 'softcap', 0);
  const HEAD_SINK_INPUT = 11;
  const sink = intAttr(n, 'smooth_softmax', 0) === 1 || given(n, HEAD_SINK_INPUT);
  const probsTensor = n.outputs[3] || `${nodeName}/attention_lens_${index}/probs`;
  const packed = !given(n, 1);
  return {
    name,
    softmaxNode: nodeName,
    probsTensor,
    queryTensor: n.inputs[0],
    keyTensor: packed ? n.inputs[0] : n.inputs[1],
    keyOperandIsTransposed: false,
    packedVectors: { heads, kvHeads, qkvPacked: packed },
    replace: { node: index, with: [reencodedNode(n, { attributes: { qk_output: QK_AFTER_SOFTMAX }, outputs: withOutput(n, 3, probsTensor) })] },
    site: {
      op: 'com.microsoft.GroupQueryAttention',
      kind: 'self',
      ...(kvHeads < heads ? { kvHeads } : {}),
      // the window holds the query's own key and the window - 1 before it
      ...(window >= 0 ? { window } : {}),
      ...(softcap > 0 ? { softcap } : {}),
      ...(sink ? { sink } : {}),
      ...(given(n, 10) ? { attentionBias: true } : {}),
      ...(intAttr(n, 'do_rotary', 0) === 1 ? { unrotatedVectors: true } : {}),
    },
  };
}

// MultiHeadAttention and DecoderMaskedMultiHeadAttention's cross-attention: output 3 (qk) holds
// the scores before the softmax, scaled and with mask and bias added; a Softmax over them gives
// the kernel's own.
function multiHeadTap(model: OnnxModel, n: OnnxNode, index: number, name: string, nodeName: string): AttentionTap {
  const heads = intAttr(n, 'num_heads', 0);
  // the two ops order their inputs differently
  const decoderMasked = n.opType === 'DecoderMaskedMultiHeadAttention';
  const biasInput = decoderMasked ? 10 : 3;
  const attentionBiasInput = decoderMasked ? 4 : 5;
  const scores = n.outputs[3] || `${nodeName}/attention_lens_${index}/qk`;
  const outputs = withOutput(n, 3, scores);
  const probsTensor = `${nodeName}/attention_lens_${index}/probs`;
  const exposed = reencodedNode(n, { outputs, ...(decoderMasked ? { attributes: { output_qk: 1 } } : {}) });
  const softmax = encodedNode({ opType: 'Softmax', inputs: [scores], outputs: [probsTensor], name: `${nodeName}/attention_lens_${index}/Softmax`, attributes: { axis: -1 } });
  // Q and K enter as [batch, positions, heads * dim]; the op adds its bias inside, so the lab's
  // vectors get the same bias added beside it.
  const floatType = tensorElemType(model, n.inputs[0]) ?? ONNX_FLOAT;
  const patch = new GraphPatch(`${nodeName}/attention_lens_${index}`, floatType);
  // DecoderMaskedMultiHeadAttention's cross-attention keys are already per head, [batch, heads, keys, d]: its bias is the query's alone
  const vectors = given(n, 1) && given(n, 2) ? biasedQueryKey(model, n, n.inputs[biasInput] ?? '', patch, !decoderMasked) : undefined;
  return {
    name,
    softmaxNode: nodeName,
    probsTensor,
    ...vectors,
    keyOperandIsTransposed: false,
    packedVectors: { heads, kvHeads: heads, qkvPacked: false },
    replace: { node: index, with: [exposed, softmax, ...patch.nodes] },
    initializers: patch.initializers,
    // the scores' type is a type variable of its own: ONNX Runtime needs it declared
    valueTypes: [[scores, floatType]],
    site: { op: `com.microsoft.${n.opType}`, kind: decoderMasked || crossAttention(model, n) ? 'cross' : 'self', ...(given(n, attentionBiasInput) ? { attentionBias: true } : {}) },
  };
}

/** Query and key with the op's bias added, as its kernel adds them; without a stored bias, the inputs as they are. */
function biasedQueryKey(model: OnnxModel, n: OnnxNode, biasName: string, patch: GraphPatch, keyBiased: boolean): { queryTensor: string; keyTensor: string } {
  const bias = model.initializers.get(biasName);
  if (!bias || bias.dims.length !== 1 || bias.dims[0] % 3 !== 0) return { queryTensor: n.inputs[0], keyTensor: n.inputs[1] };
  const width = bias.dims[0] / 3;
  const part = (from: number): string => patch.op('Slice', [biasName, patch.ints([from]), patch.ints([from + width]), patch.ints([0])]);
  return { queryTensor: patch.op('Add', [n.inputs[0], part(0)]), keyTensor: keyBiased ? patch.op('Add', [n.inputs[1], part(width)]) : n.inputs[1] };
}

/**
 * Cross-attention: the keys come from another sequence than the queries. Seen in the graph as
 * a key computed from a graph input the query does not depend on (the encoder's hidden states).
 */
function crossAttention(model: OnnxModel, n: OnnxNode): boolean {
  if (!given(n, 1)) return false;
  const producer = producers(model);
  // a cache is the same sequence's past, not another sequence
  const graphInputs = new Set(model.inputs.filter((i) => !/past|cache|present/i.test(i.name)).map((i) => i.name));
  const sources = (t: string): Set<string> => {
    const found = new Set<string>();
    const stack = [t];
    const seen = new Set<string>();
    while (stack.length) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      if (graphInputs.has(x)) found.add(x);
      const p = producer.get(x);
      if (p) stack.push(...p.inputs.filter((i) => i !== ''));
    }
    return found;
  };
  const q = sources(n.inputs[0]);
  const k = sources(n.inputs[1]);
  return [...k].some((i) => !q.has(i));
}
