// How alike two heads attend (Clark et al.): Jensen-Shannon divergence of their rows, summed
// over queries, and a deterministic 2-D embedding of all heads by classical MDS.
import type { LayerAttention } from './attentionCapture';
import { tableLog } from './tableLog';

// Clark et al.'s smoothing for the divergence: 0.999 A + 0.001 / n.
const JSD_KEEP = 0.999;

/** What headDistances costs, in row elements visited over all pairs of heads of `queries` x `keys` rows. */
export function headDistanceWork(heads: number, queries: number, keys: number, causal: boolean): number {
  return ((heads * (heads - 1)) / 2) * (causal ? (queries * (queries + 1)) / 2 : queries * keys);
}

/** Its pace on one core of the machine it was measured on (npm run bench: 144 heads at n = 128), for time estimates. */
export const HEAD_DISTANCE_NS_PER_WORK = 7;

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
  const firstHead: number[] = [];
  let count = 0;
  for (const l of layers) {
    firstHead.push(count);
    count += l.heads;
  }
  const jsd = new Float64Array(count * count).fill(NaN);
  for (const g of headGroups(layers, causal)) {
    const { heads, jsd: within } = headDistances(g.layers.map((i) => layers[i]), g.causal);
    const at = heads.map((h) => firstHead[g.layers[h.layer]] + h.head);
    for (let a = 0; a < heads.length; a++) for (let b = 0; b < heads.length; b++) jsd[at[a] * count + at[b]] = within[a * heads.length + b];
  }
  return headMapOf(jsd, count);
}

export interface HeadRef {
  layer: number;
  head: number;
}

/** JSD between every pair of heads of layers of one shape, [heads][heads] row-major, heads in (layer, head) order. */
export function headDistances(layers: readonly LayerAttention[], causal: boolean): { heads: HeadRef[]; jsd: Float64Array } {
  const heads: HeadRef[] = [];
  layers.forEach((l, layer) => {
    for (let head = 0; head < l.heads; head++) heads.push({ layer, head });
  });
  const count = heads.length;
  const Q = layers[0]?.queries ?? 0;
  const n = layers[0]?.keys ?? 0;
  // Smoothed rows and each row's entropy, once per head.
  const smoothed = heads.map(({ layer, head }) => {
    const src = layers[layer].probs;
    const out = new Float32Array(Q * n);
    const entropy = new Float64Array(Q);
    for (let i = 0; i < Q; i++) {
      const keys = causal ? i + 1 : n;
      const eps = (1 - JSD_KEEP) / keys;
      let h = 0;
      for (let j = 0; j < keys; j++) {
        out[i * n + j] = JSD_KEEP * src[(head * Q + i) * n + j] + eps;
        const p = out[i * n + j]; // the stored (float32) value, so that a head is at distance 0 from itself
        h -= p * tableLog(p);
      }
      entropy[i] = h;
    }
    return { p: out, entropy };
  });
  const jsd = new Float64Array(count * count);
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const P = smoothed[a];
      const R = smoothed[b];
      let total = 0;
      for (let i = 0; i < Q; i++) {
        const keys = causal ? i + 1 : n;
        const row = i * n;
        let hm = 0;
        for (let j = 0; j < keys; j++) {
          const m = 0.5 * (P.p[row + j] + R.p[row + j]);
          hm -= m * tableLog(m);
        }
        total += hm - 0.5 * (P.entropy[i] + R.entropy[i]);
      }
      jsd[a * count + b] = jsd[b * count + a] = total;
    }
  }
  return { heads, jsd };
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
