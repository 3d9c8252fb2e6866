// Finds the attention softmaxes of a graph (the softmax over Q K^T scores) and plans the
// extra outputs that expose them and their Q and K operands.
import { ModelRewrite, OnnxModel, OnnxNode, nodeWithIntAttribute } from './onnxGraph';

/** One attention layer as found in the graph. */
export interface AttentionTap {
  /** readable layer name derived from the node name */
  name: string;
  softmaxNode: string;
  /** tensor holding the probabilities: [..., queries, keys] */
  probsTensor: string;
  /** score MatMul's left operand: queries [..., queries, d] */
  queryTensor?: string;
  /** score MatMul's right operand: keys as [..., d, keys], or [..., keys, d] when keysTransposed is false */
  keyTensor?: string;
  keyOperandIsTransposed: boolean;
  /** index of a standard Attention node (opset 23) whose qk output must be switched to softmax */
  standardAttentionNode?: number;
}

export interface FusedAttention {
  name: string;
  opType: string;
  domain: string;
}

export interface AttentionSites {
  taps: AttentionTap[];
  fused: FusedAttention[];
}

// Operators that compute attention inside one kernel and never expose the probabilities.
const FUSED_OPS = new Set([
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

// Elementwise steps allowed between the score MatMul and the softmax: scaling, masks,
// soft-capping, casts and reshapes.
const SCORE_STEPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Identity', 'Reshape', 'Max', 'Min', 'Clip', 'Tanh', 'Squeeze', 'Unsqueeze']);
const MAX_SCORE_STEPS = 8;

/** "encoder/layer.0/attention/self" from "/encoder/layer.0/attention/self/Softmax" */
export function layerNameOfNode(nodeName: string, fallback: string): string {
  const trimmed = nodeName.replace(/^\/+/, '').replace(/\/?(Softmax|softmax)(_\d+)?(:0)?$/, '');
  return trimmed || fallback;
}

export function attentionSites(model: OnnxModel): AttentionSites {
  const producer = new Map<string, OnnxNode>();
  for (const n of model.nodes) for (const o of n.outputs) producer.set(o, n);
  const constant = (t: string): boolean => {
    if (t === '' || model.initializers.has(t)) return true;
    const p = producer.get(t);
    return p !== undefined && (p.opType === 'Constant' || p.opType === 'ConstantOfShape');
  };
  const isScoreMatMul = (n: OnnxNode): boolean =>
    (n.opType === 'MatMul' || n.opType === 'FusedMatMul') && n.inputs.length >= 2 && !constant(n.inputs[0]) && !constant(n.inputs[1]);

  // Breadth-first up from the softmax's input through score steps to a MatMul of two computed tensors.
  const scoreMatMul = (softmax: OnnxNode): OnnxNode | undefined => {
    let frontier = [softmax.inputs[0]];
    const seen = new Set<string>();
    for (let depth = 0; depth <= MAX_SCORE_STEPS && frontier.length; depth++) {
      const next: string[] = [];
      for (const t of frontier) {
        if (seen.has(t) || constant(t)) continue;
        seen.add(t);
        const p = producer.get(t);
        if (!p) continue;
        if (isScoreMatMul(p)) return p;
        if (SCORE_STEPS.has(p.opType) && p.domain === '') next.push(...(p.opType === 'Where' ? p.inputs.slice(1) : p.inputs));
      }
      frontier = next;
    }
    return undefined;
  };

  const taps: AttentionTap[] = [];
  const fused: FusedAttention[] = [];
  model.nodes.forEach((n, index) => {
    if (n.opType === 'Softmax' && n.domain === '') {
      const mm = scoreMatMul(n);
      if (!mm) return;
      const transB = mm.opType === 'FusedMatMul' && mm.attributes.get('transB')?.i === 1;
      taps.push({
        name: layerNameOfNode(n.name, `attention ${taps.length}`),
        softmaxNode: n.name || n.outputs[0],
        probsTensor: n.outputs[0],
        queryTensor: mm.inputs[0],
        keyTensor: mm.inputs[1],
        keyOperandIsTransposed: !transB,
      });
    } else if (n.opType === 'Attention' && n.domain === '' && n.inputs.length >= 2) {
      // ONNX's standard Attention (opset 23): output 3 returns the softmax when
      // qk_matmul_output_mode is 3; the tap sets the mode and names the output.
      const probsTensor = n.outputs[3] || `${n.name || 'attention'}_attention_lens_probs`;
      taps.push({
        name: layerNameOfNode(n.name, `attention ${taps.length}`),
        softmaxNode: n.name || n.outputs[0],
        probsTensor,
        queryTensor: n.inputs[0],
        keyTensor: n.inputs[1],
        keyOperandIsTransposed: false,
        standardAttentionNode: index,
      });
    } else if (FUSED_OPS.has(n.opType) && n.domain !== '') {
      fused.push({ name: n.name || n.outputs[0], opType: n.opType, domain: n.domain });
    }
  });
  return { taps, fused };
}

/** The message for a model whose attention is hidden in fused kernels. */
export function fusedAttentionMessage(fused: FusedAttention[]): string {
  const first = fused[0];
  const more = fused.length > 1 ? ` and ${fused.length - 1} more` : '';
  return (
    `the attention probabilities are hidden inside fused ${first.domain} ${first.opType} node '${first.name}'${more}: ` +
    'ONNX Runtime computes them inside one kernel and never exposes them. Export an unfused model: a plain torch.onnx.export ' +
    'or optimum-cli export onnx without --optimize, and no onnxruntime.transformers.optimizer pass, keeps each attention as ' +
    'MatMul and Softmax nodes.'
  );
}

/**
 * The taps as they will be read, and the rewrite that exposes them: attention the model already
 * outputs (directly or through Identity) is read from that output instead of being added again.
 */
export function tapRewrite(model: OnnxModel, taps: AttentionTap[]): { taps: AttentionTap[]; rewrite: ModelRewrite } {
  const graphOutputs = new Set(model.outputs.map((o) => o.name));
  const identityOf = new Map<string, string>();
  for (const n of model.nodes) if (n.opType === 'Identity') identityOf.set(n.inputs[0], n.outputs[0]);
  const read = taps.map((t) => {
    let probs = t.probsTensor;
    for (let alias = identityOf.get(probs); alias && !graphOutputs.has(probs); alias = identityOf.get(alias)) probs = alias;
    return graphOutputs.has(probs) ? { ...t, probsTensor: probs } : t;
  });
  const extraOutputs = new Set<string>();
  for (const t of read) for (const name of [t.probsTensor, t.queryTensor, t.keyTensor]) if (name && !graphOutputs.has(name)) extraOutputs.add(name);
  const nodeBytes = new Map<number, Uint8Array>();
  for (const t of read) {
    if (t.standardAttentionNode === undefined) continue;
    const node = model.nodes[t.standardAttentionNode];
    const outputs = [...node.outputs];
    while (outputs.length < 4) outputs.push('');
    outputs[3] = t.probsTensor;
    const SOFTMAX_MODE = 3;
    nodeBytes.set(t.standardAttentionNode, nodeWithIntAttribute(node, 'qk_matmul_output_mode', SOFTMAX_MODE, outputs));
  }
  return { taps: read, rewrite: { extraOutputs: [...extraOutputs], nodeBytes } };
}
