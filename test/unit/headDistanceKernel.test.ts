// The head distances' WebAssembly kernel against the JavaScript loop it replaced (kept here as
// the reference): random heads, bidirectional and causal, odd and even n, an encoder-decoder's
// parts, NaN, and the block partition that lets threads share the work.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerAttention } from '../../src/analysis/attentionCapture';
import { blockDivergences } from '../../src/analysis/divergenceKernel';
import { distanceJob, headDistances, headMap } from '../../src/analysis/headDistance';
import { randomAttention } from '../../src/analysis/syntheticAttention';
import { assertSameDistances, referenceDistances } from '../helpers/referenceDistances';

for (const n of [7, 128, 513]) {
  for (const causal of [false, true]) {
    test(`random heads at n = ${n}, ${causal ? 'causal' : 'bidirectional'}: the kernel gives the JavaScript loop's distances within 1e-9`, (t) => {
      const heads = n > 200 ? 3 : 6;
      const layers = [0, 1].map((l) => randomAttention(`kernel ${n} ${causal} ${l}`, heads, n));
      t.diagnostic(assertSameDistances(headDistances(layers, causal).jsd, referenceDistances(layers, causal), `n = ${n}`));
    });
  }
}

test('a head is at distance 0 from a copy of itself, and the matrix is symmetric with a zero diagonal', () => {
  const a = randomAttention('copy', 2, 33);
  const layer = { ...a, heads: 3, probs: Float32Array.from([...a.probs, ...a.probs.subarray(0, 33 * 33)]) };
  const { jsd } = headDistances([layer], false);
  assert.equal(jsd[0 * 3 + 2], 0);
  for (let i = 0; i < 3; i++) {
    assert.equal(jsd[i * 3 + i], 0);
    for (let j = 0; j < 3; j++) assert.equal(jsd[i * 3 + j], jsd[j * 3 + i]);
  }
});

test("an encoder-decoder's parts are compared within themselves, NaN between, as the JavaScript loop compares each part", () => {
  const enc = randomAttention('enc', 2, 9);
  const dec = randomAttention('dec', 2, 5);
  // cross-attention: 5 decoder queries over 9 encoder keys (the first 5 rows of 9-key heads)
  const square = randomAttention('cross', 2, 9).probs;
  const cross: LayerAttention = { name: 'cross', heads: 2, queries: 5, keys: 9, probs: Float32Array.from([...square.subarray(0, 45), ...square.subarray(81, 126)]), part: 'cross' };
  const layers: LayerAttention[] = [
    { ...enc, part: 'encoder' },
    { ...dec, part: 'decoder' },
    cross,
    { ...enc, name: 'enc 2', part: 'encoder' },
  ];
  const map = headMap(layers, true);
  const at = (a: number, b: number): number => map.jsd[a][b] ?? NaN;
  // heads: encoder 0-1 and 6-7, decoder 2-3 (causal), cross 4-5
  // causal, as the capture is: every part but cross-attention is compared over keys <= query
  const encoder = referenceDistances([layers[0], layers[3]], true);
  const decoder = referenceDistances([layers[1]], true);
  const crossRef = referenceDistances([layers[2]], false);
  assertSameDistances([0, 1, 6, 7].flatMap((a) => [0, 1, 6, 7].map((b) => at(a, b))), encoder, 'encoder');
  assertSameDistances([2, 3].flatMap((a) => [2, 3].map((b) => at(a, b))), decoder, 'decoder');
  assertSameDistances([4, 5].flatMap((a) => [4, 5].map((b) => at(a, b))), crossRef, 'cross');
  for (const [a, b] of [[0, 2], [1, 4], [3, 5], [6, 3]]) assert.ok(Number.isNaN(at(a, b)), `heads ${a} and ${b} lie in different parts`);
});

test("a NaN in a head's probabilities makes its distances NaN, as in the JavaScript loop, and leaves the others alone", () => {
  const layer = randomAttention('nan', 3, 16);
  layer.probs[1 * 16 * 16 + 5 * 16 + 3] = NaN;
  // a zero and a one are probabilities too
  layer.probs[2 * 16 * 16 + 7 * 16 + 2] = 0;
  layer.probs[0 * 16 * 16 + 4 * 16 + 1] = 1;
  const { jsd } = headDistances([layer], false);
  const ref = referenceDistances([layer], false);
  assertSameDistances(jsd, ref, 'NaN');
  assert.ok(Number.isNaN(jsd[0 * 3 + 1]) && Number.isNaN(jsd[1 * 3 + 2]) && Number.isFinite(jsd[0 * 3 + 2]));
});

test('the blocks cover the queries in order, and their sums, added in order, are the distances', () => {
  const layers = [randomAttention('blocks', 4, 200)];
  const job = distanceJob(layers, true);
  assert.ok(job.blocks.length >= 32, `${job.blocks.length} blocks`);
  let q = 0;
  for (const b of job.blocks) {
    assert.equal(b.q0, q);
    q += b.rows;
  }
  assert.equal(q, 200);
  // one block of all queries gives the same numbers within rounding
  const whole = blockDivergences(4, (h) => job.heads[h], 0, 200, 200, true);
  const { jsd } = headDistances(layers, true);
  const pairs = [jsd[1], jsd[2], jsd[3], jsd[6], jsd[7], jsd[11]];
  pairs.forEach((d, k) => assert.ok(Math.abs(d - whole[k]) < 1e-10, `${d} vs ${whole[k]}`));
});
