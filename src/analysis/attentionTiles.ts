// What a heatmap of a long sequence is drawn from: the visible window of one head's attention,
// reduced to at most a screen's worth of cells. Each cell holds the maximum of the weights it
// covers, so that a sharp head stays visible at any zoom; at full zoom the cells are exact.

export interface AttentionTile {
  q0: number;
  k0: number;
  /** queries and keys each cell covers */
  rowStep: number;
  colStep: number;
  rows: number;
  cols: number;
  /** [rows][cols] row-major */
  values: Float32Array;
}

/** Window [q0, q1) x [k0, k1) of the [n][keys] matrix at `offset`, at most maxRows x maxCols cells. */
export function attentionTile(probs: Float32Array, offset: number, keys: number, q0: number, q1: number, k0: number, k1: number, maxRows: number, maxCols: number): AttentionTile {
  const rowStep = Math.max(1, Math.ceil((q1 - q0) / maxRows));
  const colStep = Math.max(1, Math.ceil((k1 - k0) / maxCols));
  const rows = Math.ceil((q1 - q0) / rowStep);
  const cols = Math.ceil((k1 - k0) / colStep);
  const values = new Float32Array(rows * cols);
  for (let q = q0; q < q1; q++) {
    const r = Math.floor((q - q0) / rowStep) * cols;
    const row = offset + q * keys;
    for (let k = k0; k < k1; k++) {
      const cell = r + Math.floor((k - k0) / colStep);
      const v = probs[row + k];
      if (v > values[cell]) values[cell] = v;
    }
  }
  return { q0, k0, rowStep, colStep, rows, cols, values };
}
