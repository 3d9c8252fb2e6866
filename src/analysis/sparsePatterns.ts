// Which query-key pairs an efficient-attention method computes, for one head, and how much of
// the dense attention those pairs carry (the attention recall).
import type { TokenRoles } from './headStats';

/** Attention of one head: [n][n] row-major probabilities, rows summing to 1 over visible keys. */
export interface HeadAttention {
  probs: Float32Array;
  offset: number;
  n: number;
  causal: boolean;
}

export interface PatternResult {
  /** share of the dense attention mass on the pairs the method computes */
  recall: number;
  scoresComputed: number;
}

/** Recall and count of a pattern given as a pair predicate (masked future keys never count). */
export function patternRecall(a: HeadAttention, allowed: (i: number, j: number) => boolean): PatternResult {
  const { probs, offset, n, causal } = a;
  let mass = 0;
  let scores = 0;
  for (let i = 0; i < n; i++) {
    const row = offset + i * n;
    const keys = causal ? i + 1 : n;
    for (let j = 0; j < keys; j++) {
      if (allowed(i, j)) {
        mass += probs[row + j];
        scores++;
      }
    }
  }
  return { recall: mass / n, scoresComputed: scores };
}

/** Global tokens ([CLS], [SEP]) attend everywhere and are attended from everywhere. */
export function withGlobal(allowed: (i: number, j: number) => boolean, roles: TokenRoles | undefined): (i: number, j: number) => boolean {
  if (!roles) return allowed;
  const global = new Set([...roles.cls, ...roles.sep]);
  if (global.size === 0) return allowed;
  return (i, j) => global.has(i) || global.has(j) || allowed(i, j);
}

export const localPattern = (w: number) => (i: number, j: number): boolean => Math.abs(i - j) <= w;
export const stridedPattern = (l: number) => (i: number, j: number): boolean => Math.abs(i - j) < l || (i - j) % l === 0;
export const fixedPattern = (l: number, c: number) => (i: number, j: number): boolean => Math.floor(i / l) === Math.floor(j / l) || j % l >= l - c;

/** Adaptive span's soft mask on distance x: clamp((R + z - x) / R, 0, 1). */
export function spanMask(x: number, z: number, ramp: number): number {
  return Math.min(1, Math.max(0, (ramp + z - x) / ramp));
}

export interface SpanResult extends PatternResult {
  span: number;
  ramp: number;
  /** mass kept after the soft mask, before renormalising (recall counts every pair the mask lets through) */
  massKept: number;
}

/**
 * Adaptive span on a head, from its mass by distance (massAtDistance[d] = sum over queries of
 * the weight at |i - j| = d, or i - j = d when causal): with span z given, or the smallest z
 * whose soft mask keeps `coverage` of the mass.
 */
export function adaptiveSpan(massAtDistance: Float64Array, n: number, causal: boolean, ramp: number, opts: { span?: number; coverage?: number }): SpanResult {
  const kept = (z: number): number => {
    let m = 0;
    for (let d = 0; d < n && d < z + ramp; d++) m += spanMask(d, z, ramp) * massAtDistance[d];
    return m / n;
  };
  let z = opts.span;
  if (z === undefined) {
    const coverage = opts.coverage ?? 0.9;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept(mid) >= coverage - 1e-9) hi = mid;
      else lo = mid + 1;
    }
    z = lo;
  }
  const reach = Math.min(n - 1, z + ramp - 1); // keys with a non-zero mask
  let within = 0;
  for (let d = 0; d <= reach; d++) within += massAtDistance[d];
  const back = n <= reach + 1 ? (n * (n + 1)) / 2 : ((reach + 1) * (reach + 2)) / 2 + (n - reach - 1) * (reach + 1);
  return { span: z, ramp, recall: within / n, scoresComputed: causal ? back : 2 * back - n, massKept: kept(z) };
}

/** Mass by distance from a head's offset mass (offsetMass[r + n - 1], r = key - query). */
export function massByDistance(offsetMass: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  out[0] = offsetMass[n - 1];
  for (let d = 1; d < n; d++) out[d] = offsetMass[n - 1 - d] + offsetMass[n - 1 + d];
  return out;
}
