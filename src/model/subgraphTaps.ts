// Attention inside the branches of an If: merged decoders (optimum's decoder_model_merged.onnx,
// transformers.js) hold one decoder without a cache and one with it, chosen by use_cache_branch.
// Each branch's attention is tapped as a graph of its own and lifted to the main graph through
// new outputs of both branches and of the If: layer k of one branch pairs with layer k of the
// other, so the If's outputs carry whichever branch ran. Attention inside the body of a Loop or
// a Scan (a layer applied again and again with shared weights) is lifted through new scan
// outputs, which stack every iteration's: each iteration is a layer of its own.
import type { AttentionSites, AttentionTap, FusedAttention } from './attentionTap';
import { patchRewrite } from './graphPatch';
import { OnnxModel, OnnxNode, reencodedNode, rewrittenGraph, subgraph } from './onnxGraph';

/** A branch as a model of its own: its nodes, and the outer graph's weights and inputs it may read. */
function branchModel(model: OnnxModel, bytes: Uint8Array): OnnxModel {
  const g = subgraph(bytes);
  return {
    ...model,
    nodes: g.nodes,
    inputs: [...model.inputs, ...g.inputs],
    outputs: g.outputs,
    initializers: new Map([...model.initializers, ...g.initializers]),
    valueInfo: new Map([...model.valueInfo, ...g.valueInfo]),
  };
}

/** The encoded branch with its taps' rewrites and, as new outputs, what each lifted layer reads. */
function tappedBranch(bytes: Uint8Array, taps: AttentionTap[], lifted: string[][]): Uint8Array {
  return rewrittenGraph(bytes, patchRewrite(taps, lifted.flat())).finish();
}

// Merged decoders nest one If; a graph nested deeper than this is not a model to analyse.
const MAX_NESTED_SUBGRAPHS = 8;

/** The taps of the attention in the subgraphs of node `n` (the index-th of `model`), found with `sitesOf` one level deeper. */
type SubgraphTaps = (
  model: OnnxModel,
  n: OnnxNode,
  index: number,
  sitesOf: (m: OnnxModel, depth: number) => AttentionSites,
  depth: number,
) => { taps: AttentionTap[]; fused: FusedAttention[] };

export const ifTaps: SubgraphTaps = (model, n, index, sitesOf, depth) => {
  const thenBytes = n.attributes.get('then_branch')?.g;
  const elseBytes = n.attributes.get('else_branch')?.g;
  if (!thenBytes || !elseBytes) return { taps: [], fused: [] };
  const ifName = n.name || n.outputs[0];
  if (depth >= MAX_NESTED_SUBGRAPHS) return { taps: [], fused: [{ name: ifName, opType: 'If', domain: 'ai.onnx', reason: `it is nested more than ${MAX_NESTED_SUBGRAPHS} deep in other If nodes` }] };
  const thenSites = sitesOf(branchModel(model, thenBytes), depth + 1);
  const elseSites = sitesOf(branchModel(model, elseBytes), depth + 1);
  // a node of both branches is named once
  const fused = [...elseSites.fused, ...thenSites.fused.filter((f) => !elseSites.fused.some((e) => e.name === f.name))];
  const [a, b] = [elseSites.taps, thenSites.taps];
  if (a.length === 0 && b.length === 0) return { taps: [], fused };
  if (a.length !== b.length) {
    const reason = `its branches hold different numbers of attention layers (${a.length} without the condition, ${b.length} with it), so they cannot be paired`;
    return { taps: [], fused: [...fused, { name: ifName, opType: 'If', domain: 'ai.onnx', reason }] };
  }
  // Per layer: the probabilities, and the query and key where both branches have them.
  const withVectors = a.map((t, k) => !!(t.queryTensor && t.keyTensor && b[k].queryTensor && b[k].keyTensor));
  const lift = (taps: AttentionTap[]): string[][] => taps.map((t, k) => (withVectors[k] ? [t.probsTensor, t.queryTensor!, t.keyTensor!] : [t.probsTensor]));
  const names = a.map((_, k) => (withVectors[k] ? ['probs', 'query', 'key'] : ['probs']).map((what) => `${ifName}/attention_lens/${k}/${what}`));
  const branches = { else_branch: { graph: tappedBranch(elseBytes, a, lift(a)) }, then_branch: { graph: tappedBranch(thenBytes, b, lift(b)) } };
  const taps = a.map((t, k): AttentionTap => ({
    name: t.name,
    softmaxNode: t.softmaxNode,
    probsTensor: names[k][0],
    ...(withVectors[k] ? { queryTensor: names[k][1], keyTensor: names[k][2] } : { queryTensor: undefined, keyTensor: undefined }),
    keyOperandIsTransposed: t.keyOperandIsTransposed,
    packedVectors: t.packedVectors,
    // the If is rewritten once, with the first of its layers
    ...(k === 0 ? { replace: { node: index, with: [reencodedNode(n, { attributes: branches, extraOutputs: names.flat() })] } } : {}),
    site: { ...t.site, inBranch: ifName },
  }));
  return { taps, fused };
};

/**
 * The attention in a Loop's or a Scan's body, lifted through new scan outputs of the body and
 * the node: [iterations, ...] of each tapped tensor, split into layers after the first run.
 */
export const loopTaps: SubgraphTaps = (model, n, index, sitesOf, depth) => {
  const body = n.attributes.get('body')?.g;
  if (!body) return { taps: [], fused: [] };
  const loopName = n.name || n.outputs[0];
  if (depth >= MAX_NESTED_SUBGRAPHS) return { taps: [], fused: [{ name: loopName, opType: n.opType, domain: 'ai.onnx', reason: `it is nested more than ${MAX_NESTED_SUBGRAPHS} deep in other subgraphs` }] };
  const sites = sitesOf(branchModel(model, body), depth + 1);
  if (sites.taps.length === 0) return { taps: [], fused: sites.fused };
  const lifted = sites.taps.map((t) => [t.probsTensor, ...(t.queryTensor && t.keyTensor ? [t.queryTensor, t.keyTensor] : [])]);
  const names = lifted.map((l, k) => ['probs', 'query', 'key'].slice(0, l.length).map((what) => `${loopName}/attention_lens/${k}/${what}`));
  const added = names.flat().length;
  const attributes: Parameters<typeof reencodedNode>[1]['attributes'] = { body: { graph: tappedBranch(body, sites.taps, lifted) } };
  // a Scan that states its outputs' axes and directions states those of the new ones: stacked on axis 0, forward
  for (const list of ['scan_output_axes', 'scan_output_directions']) {
    const given = n.attributes.get(list)?.ints;
    if (given) attributes[list] = [...given, ...Array<number>(added).fill(0)];
  }
  const taps = sites.taps.map((t, k): AttentionTap => ({
    name: t.name,
    softmaxNode: t.softmaxNode,
    probsTensor: names[k][0],
    queryTensor: names[k][1],
    keyTensor: names[k][2],
    keyOperandIsTransposed: t.keyOperandIsTransposed,
    packedVectors: t.packedVectors,
    iterations: true,
    // the node is rewritten once, with the first of its layers
    ...(k === 0 ? { replace: { node: index, with: [reencodedNode(n, { attributes, extraOutputs: names.flat() })] } } : {}),
    site: { ...t.site, inLoop: loopName },
  }));
  return { taps, fused: sites.fused };
};
