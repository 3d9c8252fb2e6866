// The nodes of each attention layer, found as a capture finds the layer: from its Softmax up
// through the scaling and mask steps to the score MatMul, and down to the probabilities x V
// MatMul; or the fused op itself. The memory profiler sums what they allocate and take.
import { AttentionSites, SCORE_STEPS, attentionSites } from './attentionTap';
import { OnnxModel, OnnxNode, producers } from './onnxGraph';

// what lies between the probabilities and the MatMul that applies them to V
const PROBABILITY_STEPS = new Set(['Cast', 'Dropout', 'Identity', 'Reshape', 'Where']);

export interface AttentionOperators {
  /** node names in the original graph */
  nodes: string[];
  layers: number;
}

export function attentionOperators(model: OnnxModel, sites: AttentionSites = attentionSites(model)): AttentionOperators {
  const producer = producers(model);
  const consumers = new Map<string, OnnxNode[]>();
  const nameOf = (n: OnnxNode): string => n.name || n.outputs[0];
  const byName = new Map<string, OnnxNode>();
  for (const n of model.nodes) {
    if (!byName.has(nameOf(n))) byName.set(nameOf(n), n);
    for (const i of n.inputs) {
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const nodes = new Set<string>();
  for (const tap of sites.taps) {
    const softmax = byName.get(tap.softmaxNode);
    if (!softmax) continue;
    nodes.add(nameOf(softmax));
    if (softmax.opType !== 'Softmax') continue;
    // up: every node between the score MatMul (its operands the tap's query and key) and the softmax
    const isScore = (n: OnnxNode): boolean => n.inputs[0] === tap.queryTensor && n.inputs[1] === tap.keyTensor;
    const up = (t: string, depth: number): boolean => {
      const p = producer.get(t);
      if (!p || depth > 8) return false;
      if (isScore(p)) return nodes.add(nameOf(p)), true;
      // scaling, masks and reshapes only: not the shape computations that feed a mask
      if (!SCORE_STEPS.has(p.opType) || p.domain !== '') return false;
      const reached = p.inputs.map((i) => up(i, depth + 1)).some(Boolean);
      if (reached) nodes.add(nameOf(p));
      return reached;
    };
    up(softmax.inputs[0], 0);
    // down: through casts and dropout to the MatMul with V
    let frontier = [softmax.outputs[0]];
    for (let depth = 0; depth < 4 && frontier.length; depth++) {
      const next: string[] = [];
      for (const c of frontier.flatMap((t) => consumers.get(t) ?? [])) {
        if (c.opType === 'MatMul' || c.opType === 'FusedMatMul') nodes.add(nameOf(c));
        else if (PROBABILITY_STEPS.has(c.opType)) {
          nodes.add(nameOf(c));
          next.push(...c.outputs);
        }
      }
      frontier = next;
    }
  }
  for (const f of sites.fused) nodes.add(f.name);
  return { nodes: [...nodes], layers: sites.taps.length + sites.fused.length };
}
