// How alike two heads attend (Clark et al.): Jensen-Shannon divergence of their rows, summed
// over queries, and a deterministic 2-D embedding of all heads by classical MDS. The divergences
// run in a WebAssembly kernel (divergenceKernel.ts) a block of queries at a time, the blocks'
// sums added in order, so that other threads can take blocks (the engine's statsPool.ts) and
// give the same numbers.
import type { LayerAttention } from './attentionCapture';
import { blockDivergences } from './divergenceKernel';

/** What headDistances costs, in row elements visited over all pairs of heads of `queries` x `keys` rows. */
export function headDistanceWork(heads: number, queries: number, keys: number, causal: boolean): number {
  return ((heads * (heads - 1)) / 2) * (causal ? (queries * (queries + 1)) / 2 : queries * keys);
}

/** Its pace on one core of the machine it was measured on (npm run bench: 144 heads at n = 512), for time estimates. */
export const HEAD_DISTANCE_NS_PER_WORK = 1.3;

/**
 * Distances between heads, [heads][heads] in (layer, head) order, and a 2-D embedding. Heads are
 * compared within their part of an encoder-decoder only (their rows are distributions over other
 * tokens): between parts the distance is NaN (null in JSON), and each part is embedded on its own.
 */
export interface HeadMap {
  jsd: number[][];
  embedding: [number, number][];
}

/** The rows of a row-major matrix of `rows` rows, as arrays. */
export function matrixRows(values: Float64Array, rows: number): number[][] {
  const cols = rows ? values.length / rows : 0;
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)));
}

/** A distance matrix [count][count] (row-major) and its 2-D embedding, each group of heads at finite distances embedded on its own. */
export function headMapOf(jsd: Float64Array, count: number): HeadMap {
  const embedding: [number, number][] = Array.from({ length: count }, () => [0, 0]);
  const grouped = new Uint8Array(count);
  for (let first = 0; first < count; first++) {
    if (grouped[first]) continue;
    const members = [first];
    for (let b = first + 1; b < count; b++) if (!grouped[b] && Number.isFinite(jsd[first * count + b])) members.push(b);
    for (const m of members) grouped[m] = 1;
    const sub = new Float64Array(members.length * members.length);
    members.forEach((a, i) => members.forEach((b, j) => (sub[i * members.length + j] = jsd[a * count + b])));
    classicalMds(sub, members.length).forEach((xy, i) => (embedding[members[i]] = xy));
  }
  return { jsd: matrixRows(jsd, count), embedding };
}

/** Layers whose heads are compared with each other: one part of an encoder-decoder, all of a model of one stack. */
export interface HeadGroup {
  layers: number[];
  heads: number;
  queries: number;
  keys: number;
  causal: boolean;
}

/** The layers of each part, in the order parts first appear; self-attention is causal when `causal` says so, cross-attention never. */
export function headGroups(layers: readonly LayerAttention[], causal: boolean): HeadGroup[] {
  const groups = new Map<string, HeadGroup>();
  layers.forEach((l, i) => {
    const part = l.part ?? 'self';
    const g = groups.get(part) ?? { layers: [], heads: 0, queries: l.queries, keys: l.keys, causal: causal && part !== 'cross' };
    g.layers.push(i);
    g.heads += l.heads;
    groups.set(part, g);
  });
  return [...groups.values()];
}

/** The head distances of a capture's layers and their embedding. */
export function headMap(layers: readonly LayerAttention[], causal: boolean): HeadMap {
  const groups = headGroups(layers, causal);
  return groupedHeadMap(layers, groups, groups.map((g) => headDistances(g.layers.map((i) => layers[i]), g.causal).jsd));
}

/** The map of a capture's layers from each group's distances (headDistances' jsd, computed here or on other threads). */
export function groupedHeadMap(layers: readonly LayerAttention[], groups: readonly HeadGroup[], within: readonly Float64Array[]): HeadMap {
  const firstHead: number[] = [];
  let count = 0;
  for (const l of layers) {
    firstHead.push(count);
    count += l.heads;
  }
  const jsd = new Float64Array(count * count).fill(NaN);
  groups.forEach((g, k) => {
    const at = g.layers.flatMap((i) => Array.from({ length: layers[i].heads }, (_, h) => firstHead[i] + h));
    for (let a = 0; a < at.length; a++) for (let b = 0; b < at.length; b++) jsd[at[a] * count + at[b]] = within[k][a * at.length + b];
  });
  return headMapOf(jsd, count);
}

export interface HeadRef {
  layer: number;
  head: number;
}

/**
 * One group's work for the kernel (divergenceKernel.ts): each head's [queries][keys]
 * probabilities, in (layer, head) order, and the blocks of queries whose sums are added up in
 * order. The blocks depend on the shape alone, so that the distances are the same to the bit
 * whichever thread computes which block.
 */
export interface DistanceJob {
  heads: Float32Array[];
  queries: number;
  keys: number;
  causal: boolean;
  blocks: { q0: number; rows: number }[];
}

// Blocks of at most this many bytes of probabilities (all heads), and at least this many blocks
// (for sharing out between threads) where there are queries enough.
const BLOCK_BYTES = 1 << 22;
const MIN_BLOCKS = 64;

export function distanceJob(layers: readonly LayerAttention[], causal: boolean): DistanceJob {
  const queries = layers[0]?.queries ?? 0;
  const keys = layers[0]?.keys ?? 0;
  const heads = layers.flatMap((l) => Array.from({ length: l.heads }, (_, h) => l.probs.subarray(h * queries * keys, (h + 1) * queries * keys)));
  const rows = Math.max(1, Math.min(Math.ceil(queries / MIN_BLOCKS), Math.floor(BLOCK_BYTES / (4 * Math.max(1, heads.length * keys)))));
  const blocks = Array.from({ length: Math.ceil(queries / rows) }, (_, k) => ({ q0: k * rows, rows: Math.min(rows, queries - k * rows) }));
  return { heads, queries, keys, causal, blocks };
}

/** The divergences of every pair of the job's heads (in the kernel's order) over block k's queries, on this thread. */
export function jobBlockDivergences(job: DistanceJob, k: number): Float64Array {
  const { q0, rows } = job.blocks[k];
  return blockDivergences(job.heads.length, (h) => job.heads[h].subarray(q0 * job.keys, (q0 + rows) * job.keys), q0, rows, job.keys, job.causal);
}

/** The distance matrix [count][count] (row-major, zero diagonal) of the pairs' divergences in the kernel's order. */
export function pairMatrix(pairs: Float64Array, count: number): Float64Array {
  const jsd = new Float64Array(count * count);
  let k = 0;
  for (let a = 0; a < count; a++) for (let b = a + 1; b < count; b++) jsd[a * count + b] = jsd[b * count + a] = pairs[k++];
  return jsd;
}

/** JSD between every pair of heads of layers of one shape, [heads][heads] row-major, heads in (layer, head) order. */
export function headDistances(layers: readonly LayerAttention[], causal: boolean): { heads: HeadRef[]; jsd: Float64Array } {
  const heads = layers.flatMap((l, layer) => Array.from({ length: l.heads }, (_, head) => ({ layer, head })));
  const job = distanceJob(layers, causal);
  const sums = new Float64Array((heads.length * (heads.length - 1)) / 2);
  job.blocks.forEach((_, k) => {
    const block = jobBlockDivergences(job, k);
    for (let p = 0; p < sums.length; p++) sums[p] += block[p];
  });
  return { heads, jsd: pairMatrix(sums, heads.length) };
}

/**
 * Classical (Torgerson) MDS of a distance matrix into 2-D: the top eigenvectors of the doubly
 * centred squared distances, by power iteration from a fixed start, signs fixed so that each
 * axis's largest coordinate is positive. The same matrix always gives the same picture.
 */
export function classicalMds(distances: Float64Array, count: number): [number, number][] {
  if (count === 0) return [];
  const B = new Float64Array(count * count);
  const rowMean = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < count; j++) {
      const d2 = distances[i * count + j] ** 2;
      B[i * count + j] = d2;
      rowMean[i] += d2 / count;
    }
    total += rowMean[i] / count;
  }
  for (let i = 0; i < count; i++) for (let j = 0; j < count; j++) B[i * count + j] = -0.5 * (B[i * count + j] - rowMean[i] - rowMean[j] + total);
  const coords: [number, number][] = Array.from({ length: count }, () => [0, 0]);
  const found: Float64Array[] = [];
  for (let axis = 0; axis < 2; axis++) {
    let v = Float64Array.from({ length: count }, (_, i) => 1 + ((i * 7919) % 13) / 13);
    let lambda = 0;
    for (let iter = 0; iter < 500; iter++) {
      for (const u of found) {
        const dot = u.reduce((s, x, i) => s + x * v[i], 0);
        for (let i = 0; i < count; i++) v[i] -= dot * u[i];
      }
      const w = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        let s = 0;
        for (let j = 0; j < count; j++) s += B[i * count + j] * v[j];
        w[i] = s;
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      const next = w.map((x) => x / norm);
      const change = next.reduce((s, x, i) => s + Math.abs(x - v[i]), 0);
      v = next;
      lambda = norm;
      if (change < 1e-12) break;
    }
    let big = 0;
    for (let i = 0; i < count; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) v = v.map((x) => -x);
    found.push(v);
    const scale = Math.sqrt(Math.max(0, lambda));
    for (let i = 0; i < count; i++) coords[i][axis] = v[i] * scale;
  }
  return coords;
}
