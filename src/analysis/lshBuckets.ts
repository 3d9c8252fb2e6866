// Reformer's angular LSH on a head's own queries and keys (Kitaev et al. 2020): seeded random
// rotations R [d, buckets/2], bucket(x) = argmax([xR; -xR]) of the unit vector, n_hashes rounds.
import type { HeadVectors } from './attentionCapture';
import { rowDot } from './rowDot';
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
  const columns = new Float32Array(half * dims); // the rotation's columns as rows, for rowDot
  for (let r = 0; r < hashes; r++) {
    const rotation = seededNormals(dims * half, seed * 1000003 + r); // [dims][half]
    for (let k = 0; k < dims; k++) for (let b = 0; b < half; b++) columns[b * dims + k] = rotation[k * half + b];
    const ids = new Int32Array(positions);
    for (let p = 0; p < positions; p++) {
      let best = 0;
      let bestValue = -Infinity;
      for (let b = 0; b < half; b++) {
        const projected = rowDot(rows, p, columns, b, dims);
        if (projected > bestValue) {
          bestValue = projected;
          best = b;
        }
        if (-projected > bestValue) {
          bestValue = -projected;
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
