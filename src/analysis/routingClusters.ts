// Routing attention (Roy et al. 2020) on a head's own queries and keys: spherical k-means over
// the unit-normalised queries and keys together (seeded farthest-point initialisation, a fixed
// number of iterations; the paper's online updates are replaced by batch ones), then balanced
// clusters: each centroid takes its top-(n/k) nearest queries and keys, and a query attends to
// the keys of every cluster it is in.
import { rowDot as dot } from './rowDot';
import { seededUniform } from './seededRandom';

export interface RoutingOptions {
  clusters: number;
  iterations: number;
  seed: number;
}

export interface Routing {
  /** centroids [clusters][dims], unit length */
  centroids: Float32Array;
  /** nearest centroid of each key (for display) */
  keyCluster: Int32Array;
  /** the balanced membership: members[c] = query and key positions the cluster takes */
  queryMembers: Int32Array[];
  keyMembers: Int32Array[];
}

/** Spherical k-means over the rows of `points` ([count][dims], unit rows). */
export function sphericalKMeans(points: Float32Array, count: number, dims: number, opts: RoutingOptions): Float32Array {
  const k = Math.max(1, Math.min(opts.clusters, count));
  // Seeded farthest-point initialisation: a seeded first point, then each next centroid the point
  // least similar to those chosen, so that two centroids rarely start in one cluster.
  const centroids = new Float32Array(k * dims);
  const closest = new Float64Array(count).fill(-Infinity);
  let pick = Math.floor(seededUniform(opts.seed)() * count);
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(pick * dims, (pick + 1) * dims), c * dims);
    let next = 0;
    let lowest = Infinity;
    for (let p = 0; p < count; p++) {
      closest[p] = Math.max(closest[p], dot(points, p, centroids, c, dims));
      if (closest[p] < lowest) {
        lowest = closest[p];
        next = p;
      }
    }
    pick = next;
  }
  const assign = new Int32Array(count);
  for (let it = 0; it < opts.iterations; it++) {
    for (let p = 0; p < count; p++) {
      let best = 0;
      let bestSim = -Infinity;
      for (let c = 0; c < k; c++) {
        const s = dot(points, p, centroids, c, dims);
        if (s > bestSim) {
          bestSim = s;
          best = c;
        }
      }
      assign[p] = best;
    }
    const sums = new Float64Array(k * dims);
    for (let p = 0; p < count; p++) for (let d = 0; d < dims; d++) sums[assign[p] * dims + d] += points[p * dims + d];
    for (let c = 0; c < k; c++) {
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += sums[c * dims + d] ** 2;
      if (norm === 0) continue; // an empty cluster keeps its centroid
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < dims; d++) centroids[c * dims + d] = sums[c * dims + d] * inv;
    }
  }
  return centroids;
}

/** The top `take` positions by similarity to centroid c. */
function topByCentroid(rows: Float32Array, n: number, dims: number, centroids: Float32Array, c: number, take: number): Int32Array {
  const sims = new Float64Array(n);
  for (let p = 0; p < n; p++) sims[p] = dot(rows, p, centroids, c, dims);
  const order = new Int32Array(n);
  for (let p = 0; p < n; p++) order[p] = p;
  order.sort((a, b) => sims[b] - sims[a] || a - b);
  return order.slice(0, take);
}

export function routing(queries: Float32Array, keys: Float32Array, n: number, dims: number, opts: RoutingOptions): Routing {
  const both = new Float32Array(2 * n * dims);
  both.set(queries, 0);
  both.set(keys, n * dims);
  const centroids = sphericalKMeans(both, 2 * n, dims, opts);
  const k = centroids.length / dims;
  const take = Math.ceil(n / k);
  const queryMembers: Int32Array[] = [];
  const keyMembers: Int32Array[] = [];
  for (let c = 0; c < k; c++) {
    queryMembers.push(topByCentroid(queries, n, dims, centroids, c, take));
    keyMembers.push(topByCentroid(keys, n, dims, centroids, c, take));
  }
  const keyCluster = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (dot(keys, p, centroids, c, dims) > dot(keys, p, centroids, best, dims)) best = c;
    keyCluster[p] = best;
  }
  return { centroids, keyCluster, queryMembers, keyMembers };
}

/** The pairs routing computes, as a [queries][keys] bitmap, optionally with a local window. */
export function routingPairs(r: Routing, n: number, window?: number): { pairs: Uint8Array; scores: number } {
  const pairs = new Uint8Array(n * n);
  let scores = 0; // each cluster's queries x keys, as the method computes them
  r.queryMembers.forEach((qs, c) => {
    for (const i of qs) for (const j of r.keyMembers[c]) pairs[i * n + j] = 1;
    scores += qs.length * r.keyMembers[c].length;
  });
  if (window !== undefined) {
    for (let i = 0; i < n; i++) {
      for (let j = Math.max(0, i - window); j <= Math.min(n - 1, i + window); j++) pairs[i * n + j] = 1;
      scores += Math.min(n - 1, i + window) - Math.max(0, i - window) + 1;
    }
  }
  return { pairs, scores };
}
