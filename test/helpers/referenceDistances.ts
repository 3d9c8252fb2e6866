// The head distances as the JavaScript loop computed them before the WebAssembly kernel
// (divergenceKernel.ts), kept as the tests' reference, and the tolerance the kernel is held to.
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../src/analysis/attentionCapture';
import { tableLog } from '../../src/analysis/tableLog';

/** The JavaScript implementation the kernel replaced, as it was: [heads][heads] row-major. */
export function referenceDistances(layers: readonly LayerAttention[], causal: boolean): Float64Array {
  const heads = layers.flatMap((l, layer) => Array.from({ length: l.heads }, (_, head) => ({ layer, head })));
  const count = heads.length;
  const Q = layers[0]?.queries ?? 0;
  const n = layers[0]?.keys ?? 0;
  const smoothed = heads.map(({ layer, head }) => {
    const src = layers[layer].probs;
    const out = new Float32Array(Q * n);
    const entropy = new Float64Array(Q);
    for (let i = 0; i < Q; i++) {
      const keys = causal ? i + 1 : n;
      const eps = (1 - 0.999) / keys;
      let h = 0;
      for (let j = 0; j < keys; j++) {
        out[i * n + j] = 0.999 * src[(head * Q + i) * n + j] + eps;
        const p = out[i * n + j];
        h -= p * tableLog(p);
      }
      entropy[i] = h;
    }
    return { p: out, entropy };
  });
  const jsd = new Float64Array(count * count);
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const P = smoothed[a];
      const R = smoothed[b];
      let total = 0;
      for (let i = 0; i < Q; i++) {
        const keys = causal ? i + 1 : n;
        const row = i * n;
        let hm = 0;
        for (let j = 0; j < keys; j++) {
          const m = 0.5 * (P.p[row + j] + R.p[row + j]);
          hm -= m * tableLog(m);
        }
        total += hm - 0.5 * (P.entropy[i] + R.entropy[i]);
      }
      jsd[a * count + b] = jsd[b * count + a] = total;
    }
  }
  return jsd;
}

// Every pair is held to 1e-9 absolute on the summed divergence, and those at distance 1e-3 or
// more to 1e-9 relative as well. Below that, relative is out of reach for any summation order:
// a distance is the difference of entropies summed over queries (each near Q log n), so the
// last bits of those sums (about 1e-13 here) are a large share of the distance of two nearly
// identical heads (random weights make near-uniform heads, at distances of 1e-8).
const TOLERANCE = 1e-9;
const RELATIVE_FROM = 1e-3;

/** Asserts both tolerances; says the largest absolute and relative differences (relative over distances of RELATIVE_FROM or more, where there are any). */
export function assertSameDistances(got: ArrayLike<number>, want: ArrayLike<number>, what: string): string {
  assert.equal(got.length, want.length);
  let abs = 0;
  let rel: number | undefined;
  for (let k = 0; k < want.length; k++) {
    if (Number.isNaN(want[k])) {
      assert.ok(Number.isNaN(got[k]), `${what}: entry ${k} is ${got[k]}, not NaN`);
      continue;
    }
    const d = Math.abs(got[k] - want[k]);
    assert.ok(d <= TOLERANCE, `${what}: entry ${k} is ${got[k]}, not ${want[k]} (absolute difference ${d})`);
    if (Math.abs(want[k]) >= RELATIVE_FROM) {
      assert.ok(d <= TOLERANCE * Math.abs(want[k]), `${what}: entry ${k} is ${got[k]}, not ${want[k]} (relative difference ${d / Math.abs(want[k])})`);
      rel = Math.max(rel ?? 0, d / Math.abs(want[k]));
    }
    abs = Math.max(abs, d);
  }
  return `largest difference ${abs.toExponential(1)} absolute, ${rel === undefined ? `no distance of ${RELATIVE_FROM} or more` : `${rel.toExponential(1)} relative`}`;
}
