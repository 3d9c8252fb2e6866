// Scores one head computes under the fixed sparse patterns, in closed form (any n).

/** The Sparse Transformer's fixed pattern: the summary columns c of a block of l when not given (Child et al. use c = l / 8). */
export const fixedSummaryColumns = (block: number): number => Math.max(1, Math.round(block / 8));

// Scores of one head when each query i sees keys [i - w, i] (causal) or |i - j| <= w.
export function bandScores(n: number, w: number, causal: boolean): number {
  const back = n <= w + 1 ? (n * (n + 1)) / 2 : ((w + 1) * (w + 2)) / 2 + (n - w - 1) * (w + 1);
  return causal ? back : 2 * back - n;
}

// Strided (Child et al.): (i - j) < l, or (i - j) mod l == 0.
export function stridedScores(n: number, l: number, causal: boolean): number {
  const local = bandScores(n, l - 1, true);
  const q = Math.floor(n / l);
  const r = n % l;
  const strided = (l * q * (q - 1)) / 2 + q * r; // sum over i of floor(i / l): the j = i - kl, k >= 1
  const back = local + strided;
  return causal ? back : 2 * back - n;
}

// Fixed (Child et al.): same block of l, or j mod l in [l - c, l).
export function fixedScores(n: number, l: number, c: number, causal: boolean): number {
  const q = Math.floor(n / l);
  const r = n % l;
  if (causal) {
    const own = q * ((l * (l + 1)) / 2) + (r * (r + 1)) / 2;
    const earlierBlocks = (l * q * (q - 1)) / 2 + q * r; // sum over i of floor(i / l)
    return own + c * earlierBlocks;
  }
  const summaryIn = (size: number): number => Math.max(0, size - (l - c));
  const allSummary = q * c + summaryIn(r);
  const block = (size: number): number => size * (size + allSummary - summaryIn(size));
  return q * block(l) + block(r);
}
