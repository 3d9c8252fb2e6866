// The dot product of two rows of [rows][dims] matrices: the inner loop of k-means (routing) and of
// LSH's projections. Four sums at a time: V8 keeps them in registers, and the loop runs about
// twice as fast as one sum's chain of additions.

/** Row ai of a times row bi of b, both of `dims` columns. */
export function rowDot(a: Float32Array, ai: number, b: Float32Array, bi: number, dims: number): number {
  const x = ai * dims;
  const y = bi * dims;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < dims; k += 4) {
    s0 += a[x + k] * b[y + k];
    s1 += a[x + k + 1] * b[y + k + 1];
    s2 += a[x + k + 2] * b[y + k + 2];
    s3 += a[x + k + 3] * b[y + k + 3];
  }
  for (; k < dims; k++) s0 += a[x + k] * b[y + k];
  return s0 + s1 + (s2 + s3);
}
