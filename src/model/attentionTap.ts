// Finds the attention of a graph (the softmax over Q K^T scores, the standard Attention op, and
// ONNX Runtime's fused attention ops) and plans the extra outputs that expose the probabilities
// and their Q and K operands.
import { ModelFormatError, ModelRewrite, OnnxModel, OnnxNode, producers, reencodedNode } from './onnxGraph';
import { NodePatch, patchRewrite } from './graphPatch';
import { nodeOnCycle } from './graphCycles';
import { FUSED_OPS, fusedTap } from './fusedAttention';
import { ifTaps, loopTaps } from './subgraphTaps';

/** One attention layer as found in the graph, with the patch of the graph that exposes it. */
export interface AttentionTap extends NodePatch {
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
  /**
   * Q and K as an attention op takes them, [batch, positions, heads * headDim] (keys with kvHeads),
   * instead of per-head MatMul operands
   */
  packedVectors?: { heads: number; kvHeads: number; qkvPacked: boolean };
  /** the tensors stack the iterations of a Loop or Scan on a first axis: one layer per iteration */
  iterations?: boolean;
  /** which of those iterations this layer is, once they are counted */
  iteration?: number;
  /** what computes the attention and what it does beyond a plain softmax */
  site: AttentionSiteInfo;
}

/** How a layer's attention is computed, as reported per layer. */
export interface AttentionSiteInfo {
  /** the operator the probabilities come from: Softmax, Attention, com.microsoft.GroupQueryAttention, ... */
  op: string;
  kind: 'self' | 'cross';
  /** query heads per key/value head, when heads share keys and values */
  kvHeads?: number;
  /** keys a query sees at most (sliding window), when the op restricts them */
  window?: number;
  softcap?: number;
  /** the op adds a sink to each softmax, so rows sum to less than 1 */
  sink?: boolean;
  /** an additive bias enters the scores (attention_bias: relative positions, ALiBi) */
  attentionBias?: boolean;
  /** the probabilities come from standard ops that replace a fused node (checked against the original outputs) */
  unfused?: boolean;
  /** Q and K as tapped are before a rotation the op applies */
  unrotatedVectors?: boolean;
  /** the If node whose branches hold this layer (a merged decoder) */
  inBranch?: string;
  /** the Loop or Scan whose body holds this layer, and which of its iterations it is */
  inLoop?: string;
  iteration?: number;
}

export interface FusedAttention {
  name: string;
  opType: string;
  domain: string;
  /** why its probabilities cannot be had */
  reason: string;
}

export interface AttentionSites {
  taps: AttentionTap[];
  fused: FusedAttention[];
  /** softmaxes over Q K^T that are not over the keys (another axis), left out with why */
  skipped?: string[];
}

/**
 * Whether a Softmax may normalise over its scores' last axis (the keys of Q K^T): by its axis and,
 * where the graph states it, its rank. Axis 0 never is; an axis other than the last of a known rank is not.
 */
function overLastAxis(n: OnnxNode, model: OnnxModel): boolean {
  // before opset 13 the default axis was 1
  const axis = n.attributes.get('axis')?.i ?? ((model.opsets.get('') ?? 13) >= 13 ? -1 : 1);
  const rank = (model.valueInfo.get(n.inputs[0]) ?? model.valueInfo.get(n.outputs[0]))?.dims?.length;
  if (rank === undefined) return axis !== 0;
  return (axis < 0 ? axis + rank : axis) === rank - 1;
}

// Elementwise steps allowed between the score MatMul and the softmax: scaling, masks,
// soft-capping, casts and reshapes.
export const SCORE_STEPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Identity', 'Reshape', 'Max', 'Min', 'Clip', 'Tanh', 'Squeeze', 'Unsqueeze']);
const MAX_SCORE_STEPS = 8;

/** "encoder/layer.0/attention/self" from "/encoder/layer.0/attention/self/Softmax" */
export function layerNameOfNode(nodeName: string, fallback: string): string {
  const trimmed = nodeName.replace(/^\/+/, '').replace(/\/?(Softmax|softmax)(_\d+)?(:0)?$/, '');
  return trimmed || fallback;
}

/** The attention of a graph and of its subgraphs; a graph with a cycle is refused before any search. */
export function attentionSites(model: OnnxModel, depth = 0): AttentionSites {
  const cyclic = nodeOnCycle(model);
  if (cyclic !== undefined) throw new ModelFormatError(`its graph${depth ? ` (a subgraph ${depth} deep)` : ''} is not acyclic: node '${cyclic}' reads its own output through a cycle of nodes`);
  const producer = producers(model);
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
  const skipped: string[] = [];
  model.nodes.forEach((n, index) => {
    if (n.opType === 'Softmax' && n.domain === '') {
      const mm = scoreMatMul(n);
      if (!mm) return;
      if (!overLastAxis(n, model)) {
        skipped.push(`softmax '${n.name || n.outputs[0]}' is over axis ${n.attributes.get('axis')?.i ?? 1} of its scores, not the keys' (the last): it is not analysed as attention`);
        return;
      }
      const transB = mm.opType === 'FusedMatMul' && mm.attributes.get('transB')?.i === 1;
      taps.push({
        name: layerNameOfNode(n.name, `attention ${taps.length}`),
        softmaxNode: n.name || n.outputs[0],
        probsTensor: n.outputs[0],
        queryTensor: mm.inputs[0],
        keyTensor: mm.inputs[1],
        keyOperandIsTransposed: !transB,
        site: { op: 'Softmax', kind: 'self' },
      });
    } else if (n.opType === 'Attention' && n.domain === '' && n.inputs.length >= 2) {
      taps.push(standardAttentionTap(n, index, taps.length));
    } else if ((n.opType === 'If' || n.opType === 'Loop' || n.opType === 'Scan') && n.domain === '') {
      const inside = (n.opType === 'If' ? ifTaps : loopTaps)(model, n, index, attentionSites, depth);
      taps.push(...inside.taps);
      fused.push(...inside.fused);
    } else if (FUSED_OPS.has(n.opType) && n.domain !== '') {
      const found = fusedTap(model, n, index, layerNameOfNode(n.name, `attention ${taps.length}`));
      if ('reason' in found) fused.push({ name: n.name || n.outputs[0], opType: n.opType, domain: n.domain, reason: found.reason });
      else taps.push(found);
    }
  });
  return { taps, fused, skipped };
}

// ONNX's standard Attention (opset 23): output 3 returns the softmax when qk_matmul_output_mode
// is 3; the tap sets the mode and names the output.
function standardAttentionTap(n: OnnxNode, index: number, layer: number): AttentionTap {
  const SOFTMAX_MODE = 3;
  const probsTensor = n.outputs[3] || `${n.name || n.outputs[0]}/attention_lens_${index}/probs`;
  const outputs = [...n.outputs];
  while (outputs.length < 4) outputs.push('');
  outputs[3] = probsTensor;
  const q = n.attributes.get('q_num_heads')?.i;
  const kv = n.attributes.get('kv_num_heads')?.i;
  const softcap = n.attributes.get('softcap')?.f;
  return {
    name: layerNameOfNode(n.name, `attention ${layer}`),
    softmaxNode: n.name || n.outputs[0],
    probsTensor,
    queryTensor: n.inputs[0],
    keyTensor: n.inputs[1],
    keyOperandIsTransposed: false,
    replace: { node: index, with: [reencodedNode(n, { attributes: { qk_matmul_output_mode: SOFTMAX_MODE }, outputs })] },
    site: {
      op: 'Attention',
      kind: 'self',
      ...(q && kv && kv < q ? { kvHeads: kv } : {}),
      ...(softcap ? { softcap } : {}),
    },
  };
}

/** The message for a model whose attention is hidden in fused kernels that cannot expose it. */
export function fusedAttentionMessage(fused: FusedAttention[]): string {
  const first = fused[0];
  const more = fused.length > 1 ? ` and ${fused.length - 1} more` : '';
  return `the attention probabilities of fused ${first.domain} ${first.opType} node '${first.name}'${more} cannot be had: ${first.reason}`;
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
    // the chain ends: attentionSites refused graphs with a cycle
    for (let alias = identityOf.get(probs); alias && !graphOutputs.has(probs); alias = identityOf.get(alias)) probs = alias;
    return graphOutputs.has(probs) ? { ...t, probsTensor: probs } : t;
  });
  const extraOutputs = new Set<string>();
  for (const t of read) for (const name of [t.probsTensor, t.queryTensor, t.keyTensor]) if (name && !graphOutputs.has(name)) extraOutputs.add(name);
  return { taps: read, rewrite: patchRewrite(read, [...extraOutputs]) };
}
