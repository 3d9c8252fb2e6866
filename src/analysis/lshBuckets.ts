// Reformer's angular LSH on a head's own queries and keys (Kitaev et al. 2020): seeded random
// rotations R [d, buckets/2], bucket(x) = argmax([xR; -xR]) of the unit vector, n_hashes rounds.
import type { HeadVectors } from './attentionCapture';
import { seededNormals } from './seededRandom';

export interface LshOptions {
  buckets: number;
  hashes: number;
  /** chunk length of the sorted order (shared-QK mode): a query sees its chunk and the one before */
  chunk: number;
  seed: number;
  /** shared-QK as in the paper (keys hashed for both sides), or separate queries and keys as a what-if */
  shared: boolean;
}

/** Unit rows of head h: [positions][dims]. */
export function unitRows(v: HeadVectors, h: number): Float32Array {
  const out = v.data.slice(h * v.positions * v.dims, (h + 1) * v.positions * v.dims);
  for (let p = 0; p < v.positions; p++) {
    let s = 0;
    for (let k = 0; k < v.dims; k++) s += out[p * v.dims + k] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < v.dims; k++) out[p * v.dims + k] *= inv;
  }
  return out;
}

/** Bucket of each row in each round: [round][position]. */
export function lshBuckets(rows: Float32Array, positions: number, dims: number, buckets: number, hashes: number, seed: number): Int32Array[] {
  const half = buckets >> 1;
  const out: Int32Array[] = [];
  for (let r = 0; r < hashes; r++) {
    const rotation = seededNormals(dims * half, seed * 1000003 + r); // [dims][half]
    const ids = new Int32Array(positions);
    const projected = new Float64Array(half);
    for (let p = 0; p < positions; p++) {
      projected.fill(0);
      for (let k = 0; k < dims; k++) {
        const x = rows[p * dims + k];
        if (x === 0) continue;
        for (let b = 0; b < half; b++) projected[b] += x * rotation[k * half + b];
      }
      let best = 0;
      let bestValue = -Infinity;
      for (let b = 0; b < half; b++) {
        if (projected[b] > bestValue) {
          bestValue = projected[b];
          best = b;
        }
        if (-projected[b] > bestValue) {
          bestValue = -projected[b];
          best = b + half;
        }
      }
      ids[p] = best;
    }
    out.push(ids);
  }
  return out;
}

/**
 * The pairs LSH attention computes, as a [queries][keys] bitmap over every round. Shared-QK:
 * positions sorted by (bucket, position) and cut into chunks, each chunk attending to itself and
 * the chunk before (the paper's chunked attention). Separate Q/K: a query attends to the keys of
 * its own bucket (the ideal set the chunks approximate).
 */
export function lshPairs(queryBuckets: Int32Array[], keyBuckets: Int32Array[], n: number, chunk: number, shared: boolean): { pairs: Uint8Array; scores: number } {
  const pairs = new Uint8Array(n * n);
  let scores = 0; // the method's work: a pair met in two rounds is computed twice
  for (let r = 0; r < keyBuckets.length; r++) {
    if (shared) {
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keyBuckets[r][a] - keyBuckets[r][b] || a - b);
      const chunkOf = new Int32Array(n);
      order.forEach((pos, rank) => (chunkOf[pos] = Math.floor(rank / chunk)));
      for (let i = 0; i < n; i++) {
        const ci = chunkOf[i];
        const lo = Math.max(0, (ci - 1) * chunk);
        const hi = Math.min(n, (ci + 1) * chunk);
        for (let rank = lo; rank < hi; rank++) pairs[i * n + order[rank]] = 1;
        scores += hi - lo;
      }
    } else {
      const byBucket = new Map<number, number[]>();
      keyBuckets[r].forEach((b, j) => {
        const members = byBucket.get(b);
        if (members) members.push(j);
        else byBucket.set(b, [j]);
      });
      for (let i = 0; i < n; i++) {
        const keys = byBucket.get(queryBuckets[r][i]) ?? [];
        for (const j of keys) pairs[i * n + j] = 1;
        scores += keys.length;
      }
    }
  }
  return { pairs, scores };
}
