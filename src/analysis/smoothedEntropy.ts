// The entropy of a smoothed attention row, -sum_j (c a_j + e) log(c a_j + e), without a
// logarithm per element. The term g(a) is a smooth function of a alone once c and e are fixed,
// so it is tabulated over the float32 bit pattern of a: the bits shifted right by 15 (sign,
// exponent and top 8 mantissa bits) pick a cell of relative width 2^-8, and in each cell a
// quadratic, g's Taylor polynomial about the cell's start rewritten in powers of a, gives the
// value. The remainder is below (c / 6) a 2^-24 per element, so below 1e-8 for a whole row.
//
// The table covers every bit pattern, so the hot loop needs no range check: the lookup is
//   c = (bits >>> CELL_SHIFT) * 4;  g(a) = table[c] + a (table[c + 1] + a table[c + 2])
// and is written out in the WebAssembly kernel that runs it (rowKernel.ts). Cells of negative,
// infinite or NaN values hold NaN.
export const CELL_SHIFT = 15;
const CELLS = 2 ** (32 - CELL_SHIFT);
const FIRST_NON_FINITE = 255 << (23 - CELL_SHIFT); // exponent 255: infinities and NaN

/** Four numbers per cell (three coefficients and padding), for aligned lookups. */
export type EntropyTable = Float64Array;

let cached: { keep: number; eps: number; table: EntropyTable } | undefined;

/** The table of g(a) = -(keep a + eps) log(keep a + eps); the last one is kept, since one analysis uses one. */
export function entropyTable(keep: number, eps: number): EntropyTable {
  if (cached && cached.keep === keep && cached.eps === eps) return cached.table;
  const table = new Float64Array(CELLS * 4).fill(NaN);
  const cell = new Float32Array(1);
  const cellBits = new Int32Array(cell.buffer);
  for (let k = 0; k < FIRST_NON_FINITE; k++) {
    cellBits[0] = k << CELL_SHIFT;
    const t = cell[0];
    const p = keep * t + eps;
    const log = Math.log(p);
    // g(t + d) ~ g0 + g1 d + g2 d^2, in powers of a = t + d so that the loop subtracts no t
    const g0 = -p * log;
    const g1 = -keep * (log + 1);
    const g2 = (-keep * keep) / (2 * p);
    table[4 * k] = g0 - g1 * t + g2 * t * t;
    table[4 * k + 1] = g1 - 2 * g2 * t;
    table[4 * k + 2] = g2;
  }
  cached = { keep, eps, table };
  return table;
}

