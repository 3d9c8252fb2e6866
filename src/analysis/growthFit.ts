// How a measured figure grows with the sequence length n: the exponent of n (a least-squares
// line through log n, log y), the coefficients of a + b n + c n^2, and what they predict. Pure.

export interface GrowthFit {
  /** y ~ n^exponent over the points (null with fewer than two positive points) */
  exponent: number | null;
  /** y ~ a + b n + c n^2, least squares (an exact line or constant with fewer points) */
  a: number;
  b: number;
  c: number;
  points: number;
}

/** Solves the 3x3 (or smaller) normal equations by Gaussian elimination with partial pivoting. */
function solved(m: number[][], v: number[]): number[] {
  const k = v.length;
  const a = m.map((row, i) => [...row, v[i]]);
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    if (Math.abs(a[col][col]) < 1e-300) return Array(k).fill(0);
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = a[r][col] / a[col][col];
      for (let c = col; c <= k; c++) a[r][c] -= f * a[col][c];
    }
  }
  return a.map((row, i) => row[k] / row[i]);
}

/** Least squares of y on powers 0..degree of x (x scaled by xScale to keep the equations well conditioned). */
function polynomial(xs: readonly number[], ys: readonly number[], degree: number): number[] {
  const scale = Math.max(...xs.map(Math.abs), 1);
  const m = Array.from({ length: degree + 1 }, (_, i) => Array.from({ length: degree + 1 }, (_, j) => xs.reduce((s, x) => s + (x / scale) ** (i + j), 0)));
  const v = Array.from({ length: degree + 1 }, (_, i) => xs.reduce((s, x, p) => s + ys[p] * (x / scale) ** i, 0));
  return solved(m, v).map((coef, i) => coef / scale ** i);
}

export function growthFit(ns: readonly number[], ys: readonly number[]): GrowthFit {
  const positive = ns.map((n, i) => [n, ys[i]]).filter(([n, y]) => n > 0 && y > 0);
  let exponent: number | null = null;
  if (new Set(positive.map(([n]) => n)).size >= 2) {
    const [, slope] = polynomial(positive.map(([n]) => Math.log(n)), positive.map(([, y]) => Math.log(y)), 1);
    exponent = slope;
  }
  const distinct = new Set(ns).size;
  const degree = Math.min(2, distinct - 1);
  const coefs = distinct ? polynomial(ns, ys, Math.max(0, degree)) : [0];
  const [a = 0, b = 0, c = 0] = coefs;
  return { exponent, a, b, c, points: ns.length };
}

/** The quadratic's value at n (at least 0). */
export const fittedAt = (f: GrowthFit, n: number): number => Math.max(0, f.a + f.b * n + f.c * n * n);

/** The largest n (a whole number) at which the fit stays within budgetBytes, up to `limit`; 0 when even n = 1 does not fit. */
export function fitsUpTo(f: GrowthFit, budgetBytes: number, limit: number): number {
  if (fittedAt(f, limit) <= budgetBytes) return limit;
  let lo = 0;
  let hi = limit;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fittedAt(f, mid) <= budgetBytes) lo = mid;
    else hi = mid;
  }
  return lo;
}
