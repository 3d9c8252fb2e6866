// Attention rollout and flow on small matrices worked out by hand, and flow against a brute-force min cut.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerAttention } from '../../src/analysis/attentionCapture';
import { attentionFlow, attentionRollout, captureRollout, residualMixed } from '../../src/analysis/attentionRollout';
import { randomAttention } from '../../src/analysis/syntheticAttention';

const layer = (heads: number[][][], part?: LayerAttention['part']): LayerAttention => ({ name: 'l', ...(part ? { part } : {}), heads: heads.length, queries: heads[0].length, keys: heads[0].length, probs: Float32Array.from(heads.flat(2)) });
const closeAll = (got: ArrayLike<number>, want: number[], tol = 1e-6): void => {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol, `[${i}] ${got[i]} vs ${want[i]}`);
};

// bottom: heads [[1, 0], [0.2, 0.8]] and [[0.6, 0.4], [0.6, 0.4]], mean [[0.8, 0.2], [0.4, 0.6]], mixed [[0.9, 0.1], [0.2, 0.8]]
const bottom = layer([[[1, 0], [0.2, 0.8]], [[0.6, 0.4], [0.6, 0.4]]]);
// top: heads [[0, 1], [1, 0]] and [[0.5, 0.5], [0.5, 0.5]], mean [[0.25, 0.75], [0.75, 0.25]], mixed [[0.625, 0.375], [0.375, 0.625]]
const top = layer([[[0, 1], [1, 0]], [[0.5, 0.5], [0.5, 0.5]]]);

test('rollout of two layers is the product of their residual-mixed means, top times bottom', () => {
  closeAll(residualMixed(bottom, new Float64Array(4)), [0.9, 0.1, 0.2, 0.8]);
  closeAll(residualMixed(top, new Float64Array(4)), [0.625, 0.375, 0.375, 0.625]);
  // [[0.625 * 0.9 + 0.375 * 0.2, 0.625 * 0.1 + 0.375 * 0.8], [0.375 * 0.9 + 0.625 * 0.2, 0.375 * 0.1 + 0.625 * 0.8]]
  closeAll(attentionRollout([bottom, top]), [0.6375, 0.3625, 0.4625, 0.5375]);
  // one layer: its mixed mean alone
  closeAll(attentionRollout([bottom]), [0.9, 0.1, 0.2, 0.8]);
});

test('a row that leaves mass to a sink is renormalised with the residual', () => {
  // row 0 sums to 0.8: 0.5 [0.4, 0.4] + 0.5 [1, 0] = [0.7, 0.2], over 0.9
  closeAll(residualMixed(layer([[[0.4, 0.4], [0, 1]]]), new Float64Array(4)), [7 / 9, 2 / 9, 0, 1]);
});

test('flow of two layers: through distinct middle nodes, the sum of each path\'s bottleneck, rows as shares', () => {
  // output i to input j: sum over k of min(top[i][k], bottom[k][j])
  // row 0: [min(0.625, 0.9) + min(0.375, 0.2), min(0.625, 0.1) + min(0.375, 0.8)] = [0.825, 0.475], over 1.3
  // row 1: [min(0.375, 0.9) + min(0.625, 0.2), min(0.375, 0.1) + min(0.625, 0.8)] = [0.575, 0.725], over 1.3
  closeAll(attentionFlow([bottom, top]), [0.825 / 1.3, 0.475 / 1.3, 0.575 / 1.3, 0.725 / 1.3]);
  // one layer: an edge per pair, the layer's own weights
  closeAll(attentionFlow([bottom]), [0.9, 0.1, 0.2, 0.8]);
});

/** The max-flow of the layered graph from output i to input j as its min cut: every side of every other node tried. */
function minCut(mixed: Float64Array[], n: number, i: number, j: number): number {
  const L = mixed.length;
  const nodes = (L + 1) * n;
  const [s, t] = [L * n + i, j];
  const others = Array.from({ length: nodes }, (_, v) => v).filter((v) => v !== s && v !== t);
  let best = Infinity;
  for (let mask = 0; mask < 1 << others.length; mask++) {
    const sourceSide = new Uint8Array(nodes);
    sourceSide[s] = 1;
    others.forEach((v, b) => (sourceSide[v] = (mask >> b) & 1));
    let cut = 0;
    for (let l = 0; l < L; l++) for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) if (sourceSide[(l + 1) * n + p] && !sourceSide[l * n + q]) cut += mixed[l][p * n + q];
    best = Math.min(best, cut);
  }
  return best;
}

test('flow of three layers equals the brute-force min cut, pair by pair', () => {
  const n = 3;
  for (const seed of ['a', 'b']) {
    const layers = [0, 1, 2].map((l) => randomAttention(`flow ${seed} ${l}`, 2, n));
    const mixed = layers.map((l) => residualMixed(l, new Float64Array(n * n)));
    const flow = attentionFlow(layers);
    for (let i = 0; i < n; i++) {
      const cuts = Array.from({ length: n }, (_, j) => minCut(mixed, n, i, j));
      const sum = cuts.reduce((a, b) => a + b, 0);
      closeAll(flow.subarray(i * n, (i + 1) * n), cuts.map((c) => c / sum), 1e-9);
    }
  }
});

test('a capture\'s stacks: an encoder-decoder\'s encoder and decoder each on their own, cross-attention left out; flow within its budget', () => {
  const cross: LayerAttention = { name: 'x', part: 'cross', heads: 1, queries: 2, keys: 3, probs: new Float32Array(6).fill(1 / 3) };
  const enc = randomAttention('enc', 2, 3);
  const layers = [{ ...enc, part: 'encoder' as const }, { ...bottom, part: 'decoder' as const }, cross, { ...top, part: 'decoder' as const }];
  const r = captureRollout(layers, [0, 1, 2, 3]);
  assert.deepEqual(r.stacks.map((s) => [s.part, s.layers]), [['encoder', [0]], ['decoder', [1, 3]]]);
  closeAll(r.stacks[1].rollout.flat(), [0.6375, 0.3625, 0.4625, 0.5375]);
  assert.ok(r.notes.some((x) => /cross-attention is not in the product/.test(x)));
  assert.ok(r.notes.some((x) => /over the captured layers 1, 3/.test(x)));
  assert.ok(r.stacks.every((s) => s.flow));
  const over = captureRollout([bottom, top], [4, 7], 0);
  assert.equal(over.stacks[0].flow, undefined);
  assert.ok(over.notes.some((x) => /attention flow is left out: .* above the budget/.test(x)), over.notes.join(' | '));
  const long = captureRollout([randomAttention('long', 1, 257)], [0]);
  assert.deepEqual(long.stacks, []);
  assert.ok(long.notes.some((x) => /left out above 256 positions \(here 257\)/.test(x)));
});
