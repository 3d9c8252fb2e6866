// Segment recurrence (Transformer-XL) and compressive memory measured on a decoder's own
// attention: how much attention goes to the memory, how far it reaches, and what compression
// changes in the output.

/** One decoding step: each layer's attention row per head over the cache, and where each key came from. */
export interface RecurrenceStep {
  /** absolute position of the query token */
  position: number;
  /** index of the query's segment */
  segment: number;
  /** per key: its absolute position (for pooled keys, the mean of the positions pooled) and whether it is memory */
  keyPositions: Float64Array;
  keyIsMemory: Uint8Array;
  /** per layer: [heads][keys] */
  rows: Float32Array[];
  heads: number[];
}

export interface RecurrenceHead {
  layer: number;
  head: number;
  /** mean over queries of the attention on keys from earlier segments (memory) */
  memoryShare: number;
  /** the distance within which 99% of the attention lies, averaged over queries: the reach of the head */
  effectiveContext: number;
}

const REACH_COVERAGE = 0.99;

export function recurrenceHeads(steps: readonly RecurrenceStep[], layerIndices: readonly number[]): RecurrenceHead[] {
  const out: RecurrenceHead[] = [];
  if (steps.length === 0) return out;
  steps[0].rows.forEach((_, li) => {
    for (let h = 0; h < steps[0].heads[li]; h++) {
      let memory = 0;
      const byDistance = new Map<number, number>();
      for (const s of steps) {
        const keys = s.keyPositions.length;
        const row = s.rows[li].subarray(h * keys, (h + 1) * keys);
        for (let k = 0; k < keys; k++) {
          if (s.keyIsMemory[k]) memory += row[k];
          const d = Math.max(0, Math.round(s.position - s.keyPositions[k]));
          byDistance.set(d, (byDistance.get(d) ?? 0) + row[k]);
        }
      }
      const distances = [...byDistance.keys()].sort((a, b) => a - b);
      let within = 0;
      let reach = distances[distances.length - 1] ?? 0;
      for (const d of distances) {
        within += byDistance.get(d)! / steps.length;
        if (within >= REACH_COVERAGE - 1e-9) {
          reach = d;
          break;
        }
      }
      out.push({ layer: layerIndices[li], head: h, memoryShare: memory / steps.length, effectiveContext: reach });
    }
  });
  return out;
}

/** KL(p || q) in nats between the softmax of two output vectors. */
export function softmaxKlNats(p: Float32Array, q: Float32Array): number {
  const logSoftmax = (x: Float32Array): Float64Array => {
    let max = -Infinity;
    for (const v of x) max = Math.max(max, v);
    let z = 0;
    for (const v of x) z += Math.exp(v - max);
    const lz = Math.log(z) + max;
    return Float64Array.from(x, (v) => v - lz);
  };
  const lp = logSoftmax(p);
  const lq = logSoftmax(q);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  return Math.max(0, kl);
}
