// Attention rollout and attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in
// Transformers"): what each position at the top of a stack of self-attention layers draws from
// each input position, through every layer's heads averaged and mixed with the residual
// connection as 0.5 A + 0.5 I.
import type { AttentionPart, LayerAttention } from './attentionCapture';
import { matrixRows } from './headDistance';
import { productSpace } from './productKernel';

/** The identity's share in each layer's mixing: the paper's 0.5 A + 0.5 I. */
export const RESIDUAL_WEIGHT = 0.5;

/**
 * Rollout is left out above this many positions, the most the head view draws whole: its product
 * costs n^3 a layer, in every analysis (docs/performance.md), and the views get n x n numbers.
 */
export const ROLLOUT_MAX_POSITIONS = 256;

/** Attention flow is computed up to this much flowWork: about half a second on one core (12 layers at 36 positions). */
export const FLOW_WORK_BUDGET = 2e7;

// Residual capacities below this count as saturated: probabilities are float32.
const FLOW_EPSILON = 1e-12;

/** One stack's rollout, and its flow where within the budget: [outputs][inputs], each row summing to 1. */
export interface RolloutStack {
  /** an encoder-decoder's encoder (over the source tokens) or decoder (its self-attention, over the target tokens) */
  part?: Exclude<AttentionPart, 'cross'>;
  /** the model's indices of the layers in the product, bottom first */
  layers: number[];
  rollout: number[][];
  /** each output's max-flow to each input, as shares of the output's total */
  flow?: number[][];
}

export interface AttentionRollout {
  stacks: RolloutStack[];
  /** what the product assumes and leaves out */
  notes: string[];
}

/** A layer's heads averaged and mixed with the identity, each row renormalised (rows that leave mass to a sink sum to less than 1): [n][n] into `out`. */
export function residualMixed(layer: LayerAttention, out: Float64Array): Float64Array {
  const { heads, probs } = layer;
  const n = layer.queries;
  const size = n * n;
  out.fill(0);
  for (let h = 0; h < heads; h++) for (let x = 0, base = h * size; x < size; x++) out[x] += probs[base + x];
  const attended = (1 - RESIDUAL_WEIGHT) / heads;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let sum = RESIDUAL_WEIGHT;
    for (let j = 0; j < n; j++) sum += (out[row + j] *= attended);
    out[row + i] += RESIDUAL_WEIGHT;
    for (let j = 0; j < n; j++) out[row + j] /= sum;
  }
  return out;
}

/** The n x n matrix `src` into the m x m matrix `dst` (m >= n), zeros around it. */
function placed(src: Float64Array, n: number, dst: Float64Array, m: number): void {
  if (m === n) return void dst.set(src);
  dst.fill(0);
  for (let i = 0; i < n; i++) dst.set(src.subarray(i * n, (i + 1) * n), i * m);
}

/**
 * The rollout of layers given bottom first, Ã_L ... Ã_1 with Ã the residual-mixed layers:
 * [outputs][inputs] row-major. The products run in the WebAssembly kernel (productKernel.ts) on
 * matrices of an even size, an odd n padded with zeros, which leave the n x n block exact.
 */
export function attentionRollout(layers: readonly LayerAttention[]): Float64Array {
  const n = layers[0].queries;
  const m = n + (n & 1);
  const { kernel, at, views } = productSpace(m);
  const mixed = new Float64Array(n * n);
  let [rolled, next] = [0, 1];
  const layer = 2;
  placed(residualMixed(layers[0], mixed), n, views[rolled], m);
  for (let l = 1; l < layers.length; l++) {
    placed(residualMixed(layers[l], mixed), n, views[layer], m);
    views[next].fill(0);
    kernel.product(at[layer], at[rolled], at[next], m);
    [rolled, next] = [next, rolled];
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out.set(views[rolled].subarray(i * m, i * m + n), i * n);
  return out;
}

/** What attentionFlow costs: a max-flow per (output, input) pair over L n^2 edges. */
export const flowWork = (layers: number, positions: number): number => layers * positions ** 4;

/**
 * The layered graph of the paper: node (l, p) is position p after l layers (level 0 the inputs),
 * with an edge from (l, p) to (l - 1, q) of capacity Ã_l[p][q]; edges in both directions for
 * the residual graph, each knowing its partner. Zero capacities have no edge.
 */
interface FlowGraph {
  /** each node's edges: first[v] to first[v + 1] */
  first: Int32Array;
  to: Int32Array;
  partner: Int32Array;
  capacity: Float64Array;
}

function flowGraph(layers: readonly LayerAttention[]): FlowGraph {
  const n = layers[0].queries;
  const nodes = (layers.length + 1) * n;
  const mixed = layers.map((l) => residualMixed(l, new Float64Array(n * n)));
  const degree = new Int32Array(nodes + 1);
  mixed.forEach((m, l) => {
    for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) if (m[p * n + q] > 0) {
      degree[(l + 1) * n + p]++;
      degree[l * n + q]++;
    }
  });
  const first = new Int32Array(nodes + 1);
  for (let v = 0; v < nodes; v++) first[v + 1] = first[v] + degree[v];
  const edges = first[nodes];
  const to = new Int32Array(edges);
  const partner = new Int32Array(edges);
  const capacity = new Float64Array(edges);
  const fill = first.slice(0, nodes);
  mixed.forEach((m, l) => {
    for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) {
      const c = m[p * n + q];
      if (!(c > 0)) continue;
      const [u, v] = [(l + 1) * n + p, l * n + q];
      const [e, back] = [fill[u]++, fill[v]++];
      to[e] = v;
      to[back] = u;
      partner[e] = back;
      partner[back] = e;
      capacity[e] = c;
    }
  });
  return { first, to, partner, capacity };
}

/** Dinic's max-flow from `source` to `sink`, on `residual` (reset to the graph's capacities first). */
function maxFlow(g: FlowGraph, residual: Float64Array, level: Int32Array, queue: Int32Array, arc: Int32Array, source: number, sink: number): number {
  residual.set(g.capacity);
  const { first, to, partner } = g;
  const push = (v: number, limit: number): number => {
    if (v === sink) return limit;
    for (; arc[v] < first[v + 1]; arc[v]++) {
      const e = arc[v];
      const w = to[e];
      if (residual[e] <= FLOW_EPSILON || level[w] !== level[v] + 1) continue;
      const pushed = push(w, Math.min(limit, residual[e]));
      if (pushed > 0) {
        residual[e] -= pushed;
        residual[partner[e]] += pushed;
        return pushed;
      }
    }
    return 0;
  };
  let total = 0;
  for (;;) {
    // levels by breadth-first search over edges with capacity left
    level.fill(-1);
    level[source] = 0;
    queue[0] = source;
    for (let head = 0, tail = 1; head < tail; head++) {
      const v = queue[head];
      for (let e = first[v]; e < first[v + 1]; e++) {
        if (residual[e] > FLOW_EPSILON && level[to[e]] < 0) {
          level[to[e]] = level[v] + 1;
          queue[tail++] = to[e];
        }
      }
    }
    if (level[sink] < 0) return total;
    arc.set(first.subarray(0, arc.length));
    for (let f = push(source, Infinity); f > 0; f = push(source, Infinity)) total += f;
  }
}

/** Attention flow of layers given bottom first: each output's max-flow to each input, as shares of the output's total; [outputs][inputs] row-major. */
export function attentionFlow(layers: readonly LayerAttention[]): Float64Array {
  const n = layers[0].queries;
  const g = flowGraph(layers);
  const nodes = g.first.length - 1;
  const [residual, level, queue, arc] = [new Float64Array(g.capacity.length), new Int32Array(nodes), new Int32Array(nodes), new Int32Array(nodes)];
  const flow = new Float64Array(n * n);
  const top = layers.length * n;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += flow[i * n + j] = maxFlow(g, residual, level, queue, arc, top + i, j);
    for (let j = 0; j < n; j++) flow[i * n + j] /= sum;
  }
  return flow;
}

/**
 * Rollout, and flow within `flowBudget`, of each self-attention stack of a capture: the one of a
 * model of one stack, or an encoder-decoder's encoder and decoder, cross-attention left out.
 * `layers` are the captured ones, between pieces; `layerIndices` their indices in the model.
 */
export function captureRollout(layers: readonly LayerAttention[], layerIndices: readonly number[], flowBudget = FLOW_WORK_BUDGET): AttentionRollout {
  const stacks: RolloutStack[] = [];
  const notes = [`heads averaged, each layer mixed with the residual as ${1 - RESIDUAL_WEIGHT} A + ${RESIDUAL_WEIGHT} I (rows renormalised) and the layers multiplied (Abnar & Zuidema 2020); outputs are the top layer's positions, inputs the embeddings'`];
  const parts = [...new Set(layers.map((l) => l.part))].filter((p): p is RolloutStack['part'] => p !== 'cross');
  if (layers.some((l) => l.part === 'cross')) notes.push("cross-attention is not in the product: the encoder's rollout is over the source tokens, the decoder's over its self-attention on the target tokens");
  for (const part of parts) {
    const at = layers.flatMap((l, i) => (l.part === part ? [i] : []));
    const stack = at.map((i) => layers[i]);
    const indices = at.map((i) => layerIndices[i]);
    const n = stack[0].queries;
    const name = part ? `the ${part}'s rollout` : 'rollout';
    if (stack.some((l) => l.queries !== n || l.keys !== n)) {
      notes.push(`${name} is left out: its layers' queries and keys are not the same ${n} positions`);
      continue;
    }
    if (n > ROLLOUT_MAX_POSITIONS) {
      notes.push(`${name} is left out above ${ROLLOUT_MAX_POSITIONS} positions (here ${n})`);
      continue;
    }
    notes.push(`${name} is over the captured layers ${indices.join(', ')}: a layer not captured is not in the product`);
    const s: RolloutStack = { ...(part ? { part } : {}), layers: indices, rollout: matrixRows(attentionRollout(stack), n) };
    const work = flowWork(stack.length, n);
    if (work <= flowBudget) {
      s.flow = matrixRows(attentionFlow(stack), n);
      notes.push(`attention flow${part ? ` of the ${part}` : ''}: each output's max-flow to each input through the layers, the same mixed weights as capacities, as shares of the output's total`);
    } else notes.push(`attention flow${part ? ` of the ${part}` : ''} is left out: a max-flow for every output and input costs layers x n^4 = ${work.toExponential(1)}, above the budget of ${flowBudget.toExponential(1)} (${stack.length} layers at n = ${Math.floor((flowBudget / stack.length) ** 0.25)} at most)`);
    stacks.push(s);
  }
  return { stacks, notes };
}
