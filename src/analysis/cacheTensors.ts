// Cut and pool a key/value cache along its sequence axis: what segment recurrence and
// compressive memory do to a decoder's past. Tensors are row-major Float32Arrays with dims.

export interface CacheTensor {
  data: Float32Array;
  dims: number[];
}

function strides(dims: readonly number[], axis: number): { outer: number; inner: number } {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i];
  let inner = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i];
  return { outer, inner };
}

/** Positions [start, end) of the sequence axis. */
export function sliceAxis(t: CacheTensor, axis: number, start: number, end: number): CacheTensor {
  const { outer, inner } = strides(t.dims, axis);
  const len = t.dims[axis];
  const keep = end - start;
  const data = new Float32Array(outer * keep * inner);
  for (let o = 0; o < outer; o++) data.set(t.data.subarray((o * len + start) * inner, (o * len + end) * inner), o * keep * inner);
  const dims = [...t.dims];
  dims[axis] = keep;
  return { data, dims };
}

export function concatAxis(a: CacheTensor, b: CacheTensor, axis: number): CacheTensor {
  const { outer, inner } = strides(a.dims, axis);
  const la = a.dims[axis];
  const lb = b.dims[axis];
  const data = new Float32Array(outer * (la + lb) * inner);
  for (let o = 0; o < outer; o++) {
    data.set(a.data.subarray(o * la * inner, (o + 1) * la * inner), o * (la + lb) * inner);
    data.set(b.data.subarray(o * lb * inner, (o + 1) * lb * inner), (o * (la + lb) + la) * inner);
  }
  const dims = [...a.dims];
  dims[axis] = la + lb;
  return { data, dims };
}

/** Mean pooling at rate c along the sequence axis (a last partial group is pooled as it is). */
export function meanPoolAxis(t: CacheTensor, axis: number, rate: number): CacheTensor {
  const { outer, inner } = strides(t.dims, axis);
  const len = t.dims[axis];
  const groups = Math.ceil(len / rate);
  const data = new Float32Array(outer * groups * inner);
  for (let o = 0; o < outer; o++) {
    for (let g = 0; g < groups; g++) {
      const from = g * rate;
      const to = Math.min(len, from + rate);
      const out = (o * groups + g) * inner;
      for (let p = from; p < to; p++) {
        const src = (o * len + p) * inner;
        for (let k = 0; k < inner; k++) data[out + k] += t.data[src + k];
      }
      for (let k = 0; k < inner; k++) data[out + k] /= to - from;
    }
  }
  const dims = [...t.dims];
  dims[axis] = groups;
  return { data, dims };
}
