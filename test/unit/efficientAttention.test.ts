import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lshBuckets, lshPairs, unitRows } from '../../src/analysis/lshBuckets';
import { routing, routingPairs } from '../../src/analysis/routingClusters';
import { seededNormals } from '../../src/analysis/seededRandom';
import { adaptiveSpan, fixedPattern, localPattern, patternRecall, spanMask, stridedPattern } from '../../src/analysis/sparsePatterns';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('recall: the dense mass on the pairs a pattern computes, over the number of queries', () => {
  // 3 tokens, bidirectional
  const probs = Float32Array.from([0.5, 0.5, 0, 0.25, 0.5, 0.25, 0.1, 0.2, 0.7]);
  const r = patternRecall({ probs, offset: 0, n: 3, causal: false }, localPattern(0));
  close(r.recall, (0.5 + 0.5 + 0.7) / 3, 1e-7);
  assert.equal(r.scoresComputed, 3);
  assert.equal(patternRecall({ probs, offset: 0, n: 3, causal: false }, localPattern(1)).scoresComputed, 7);
  // strided l = 2: |i - j| < 2 or even distance: everything at n = 3
  assert.equal(patternRecall({ probs, offset: 0, n: 3, causal: false }, stridedPattern(2)).recall > 0.9999, true);
  // fixed l = 2, c = 1: blocks {0,1}, {2} give 4 + 1 pairs; summary column 1 adds (2, 1)
  assert.equal(patternRecall({ probs, offset: 0, n: 3, causal: false }, fixedPattern(2, 1)).scoresComputed, 6);
});

test("adaptive span's soft mask and the smallest z that keeps a coverage", () => {
  close(spanMask(0, 10, 32), 1);
  close(spanMask(10, 10, 32), 1);
  close(spanMask(26, 10, 32), 0.5);
  close(spanMask(42, 10, 32), 0);
  // all mass at distance 5, n = 64: with R = 4, z = 5 keeps all of it, z = 4 keeps 3/4
  const byDistance = new Float64Array(64);
  byDistance[5] = 64;
  const s = adaptiveSpan(byDistance, 64, true, 4, { coverage: 0.75 });
  assert.equal(s.span, 4);
  close(s.massKept, 0.75);
  assert.equal(adaptiveSpan(byDistance, 64, true, 4, { coverage: 1 }).span, 5);
});

test('identical vectors always share an LSH bucket; the same seed gives the same buckets', () => {
  const dims = 16;
  const n = 40;
  const rows = seededNormals(n * dims, 'lsh rows');
  rows.copyWithin(7 * dims, 3 * dims, 4 * dims); // row 7 = row 3
  const v = { heads: 1, positions: n, dims, data: rows };
  const unit = unitRows(v, 0);
  const a = lshBuckets(unit, n, dims, 8, 6, 42);
  for (const round of a) assert.equal(round[7], round[3]);
  assert.deepEqual(lshBuckets(unit, n, dims, 8, 6, 42), a);
  assert.notDeepEqual(lshBuckets(unit, n, dims, 8, 6, 43), a);
  // shared-QK: a query always reaches its own key (same chunk)
  const { pairs } = lshPairs(a, a, n, 5, true);
  for (let i = 0; i < n; i++) assert.equal(pairs[i * n + i], 1);
});

test('routing recovers planted clusters', () => {
  const dims = 8;
  const k = 4;
  const per = 10;
  const n = k * per;
  const centers = seededNormals(k * dims, 'centers');
  const noise = seededNormals(n * dims, 'noise');
  const points = new Float32Array(n * dims);
  for (let p = 0; p < n; p++) for (let d = 0; d < dims; d++) points[p * dims + d] = 5 * centers[Math.floor(p / per) * dims + d] + 0.3 * noise[p * dims + d];
  const unit = unitRows({ heads: 1, positions: n, dims, data: points }, 0);
  const r = routing(unit, unit, n, dims, { clusters: k, iterations: 10, seed: 3 });
  // every planted group lands in one cluster, and different groups in different clusters
  const clusterOf = Array.from({ length: k }, (_, g) => new Set(Array.from(r.keyCluster.subarray(g * per, (g + 1) * per))));
  for (const s of clusterOf) assert.equal(s.size, 1);
  assert.equal(new Set(clusterOf.map((s) => [...s][0])).size, k);
  // balanced: each centroid takes n/k queries and keys; a query reaches exactly its group's keys
  const { pairs, scores } = routingPairs(r, n);
  assert.equal(scores, k * per * per);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(pairs[i * n + j], Math.floor(i / per) === Math.floor(j / per) ? 1 : 0);
});

test('cache tensors: slice, concatenate and mean-pool along the sequence axis', async () => {
  const { concatAxis, meanPoolAxis, sliceAxis } = await import('../../src/analysis/cacheTensors');
  // dims [2, 3 positions, 2]
  const t = { data: Float32Array.from([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]), dims: [2, 3, 2] };
  assert.deepEqual(Array.from(sliceAxis(t, 1, 1, 3).data), [2, 3, 4, 5, 12, 13, 14, 15]);
  assert.deepEqual(concatAxis(sliceAxis(t, 1, 0, 1), sliceAxis(t, 1, 1, 3), 1), t);
  const pooled = meanPoolAxis(t, 1, 2);
  assert.deepEqual(pooled.dims, [2, 2, 2]);
  assert.deepEqual(Array.from(pooled.data), [1, 2, 4, 5, 11, 12, 14, 15]);
  assert.deepEqual(meanPoolAxis(t, 1, 1), t);
});

test('memory share and reach from decoding steps; KL of identical outputs is 0', async () => {
  const { recurrenceHeads, softmaxKlNats } = await import('../../src/analysis/recurrence');
  // two steps of one head: the second query (position 5, segment 1) puts 0.25 on memory key at position 1
  const steps = [
    { position: 4, segment: 1, keyPositions: Float64Array.from([4]), keyIsMemory: Uint8Array.from([0]), rows: [Float32Array.from([1])], heads: [1] },
    { position: 5, segment: 1, keyPositions: Float64Array.from([1, 4, 5]), keyIsMemory: Uint8Array.from([1, 0, 0]), rows: [Float32Array.from([0.25, 0.25, 0.5])], heads: [1] },
  ];
  const [h] = recurrenceHeads(steps, [3]);
  assert.equal(h.layer, 3);
  close(h.memoryShare, 0.125);
  assert.equal(h.effectiveContext, 4);
  assert.equal(softmaxKlNats(Float32Array.from([1, 2, 3]), Float32Array.from([1, 2, 3])), 0);
  assert.ok(softmaxKlNats(Float32Array.from([1, 2, 3]), Float32Array.from([3, 2, 1])) > 0.5);
});

/** A capture of random heads, causal or not, with random queries and keys (d = 16). */
async function randomLabCapture(n: number, heads: number, causal: boolean) {
  const { randomAttention, randomCapture } = await import('../../src/analysis/syntheticAttention');
  const layer = randomAttention(`lab ${n} ${causal}`, heads, n);
  if (causal) {
    for (let r = 0; r < heads * n; r++) {
      const i = r % n;
      const row = layer.probs.subarray(r * n, (r + 1) * n);
      row.fill(0, i + 1);
      const sum = row.reduce((s, x) => s + x, 0);
      for (let j = 0; j <= i; j++) row[j] /= sum;
    }
  }
  const dims = 16;
  layer.query = { heads, positions: n, dims, data: seededNormals(heads * n * dims, `q ${n}`) };
  layer.key = { heads, positions: n, dims, data: seededNormals(heads * n * dims, `k ${n}`) };
  return randomCapture([layer]);
}

test('at equal budget every ranked method computes at most the budget on every head; the others are not ranked', async () => {
  const { efficientAttentionLab } = await import('../../src/analysis/efficientAttentionLab');
  for (const [n, heads] of [[23, 3], [64, 2], [128, 2], [512, 1]] as const) {
    for (const causal of n === 512 ? [true] : [false, true]) {
      const lab = efficientAttentionLab(await randomLabCapture(n, heads, causal));
      const eq = lab.equalBudget;
      assert.equal(eq.budget, Math.round(n * Math.sqrt(n)));
      // every method of the per-head table is compared
      assert.deepEqual(Object.keys(eq.methods).sort(), [...new Set(lab.heads.flatMap((h) => h.methods.map((m) => m.method)))].sort());
      for (const [name, m] of Object.entries(eq.methods)) {
        assert.equal(eq.ranking.includes(name), m.withinBudget, `${name} at n = ${n}`);
        if (m.withinBudget) assert.ok(m.maxScoresComputed <= eq.budget, `${name} at n = ${n}: ${m.maxScoresComputed} scores > ${eq.budget}`);
        else assert.ok(m.maxScoresComputed > eq.budget, `${name} at n = ${n} said over budget at ${m.maxScoresComputed}`);
      }
      for (let k = 1; k < eq.ranking.length; k++) assert.ok(eq.methods[eq.ranking[k - 1]].meanRecall >= eq.methods[eq.ranking[k]].meanRecall);
      // the curves: budgets from n to n^2 / 4, a point only where the method is within that budget
      const c = lab.budgetCurves;
      assert.equal(c.budgets[0], n);
      assert.equal(c.budgets.at(-1), Math.floor((n * n) / 4));
      for (const [name, v] of Object.entries(c.methods)) {
        v.scoresComputed.forEach((s, i) => {
          assert.equal(s === null, v.meanRecall[i] === null);
          if (s !== null) assert.ok(s <= c.budgets[i], `${name} at budget ${c.budgets[i]}: ${s}`);
        });
      }
      // local attention always fits (a window of 0 is n scores); at n^2 / 4 it reaches a quarter of the pairs or more
      assert.ok(c.methods.local.meanRecall.every((r) => r !== null));
    }
  }
});

test("adaptive span's ramp is part of its cost: below n = 128 it is n / 4, and over budget it is not ranked at full recall", async () => {
  const { efficientAttentionLab } = await import('../../src/analysis/efficientAttentionLab');
  const lab = efficientAttentionLab(await randomLabCapture(23, 2, false));
  assert.ok(lab.heads.every((h) => h.methods.find((m) => m.method === 'adaptiveSpan')!.params.ramp === 5));
  assert.ok(lab.notes.some((x) => /ramp R is 5 \(n \/ 4\) instead of 32/.test(x)));
  const span = lab.equalBudget.methods.adaptiveSpan;
  // z = 0 with R = 5 still reaches 4 keys each way: 187 scores against a budget of 110
  assert.equal(span.scoresComputed, 187);
  assert.equal(span.withinBudget, false);
  assert.ok(!lab.equalBudget.ranking.includes('adaptiveSpan'));
  // with a budget that covers it, it is ranked
  assert.ok(efficientAttentionLab(await randomLabCapture(23, 2, false), { budget: 200 }).equalBudget.ranking.includes('adaptiveSpan'));
  // a ramp given is kept, and said nothing about
  const given = efficientAttentionLab(await randomLabCapture(23, 2, false), { ramp: 32 });
  assert.ok(!given.notes.some((x) => /ramp R is \d/.test(x)));
});

test('routing clusters are balanced: each takes ceil(n / k) keys; the raw nearest-centroid sizes are reported apart', async () => {
  const { efficientAttentionLab } = await import('../../src/analysis/efficientAttentionLab');
  const n = 24;
  const lab = efficientAttentionLab(await randomLabCapture(n, 1, false), { clusters: 5, head: { layer: 0, head: 0 } });
  const b = lab.buckets!;
  assert.deepEqual(b.routingClusterSizes, [5, 5, 5, 5, 5]);
  assert.equal(b.routingNearestSizes.reduce((s, x) => s + x, 0), n);
  assert.equal(b.routing.length, n);
});

test("a head's buckets asked for apart are the lab's for it: its settings, the model's layer index; none for cross-attention or without queries and keys", async () => {
  const { efficientAttentionLab, headBuckets } = await import('../../src/analysis/efficientAttentionLab');
  const { randomAttention } = await import('../../src/analysis/syntheticAttention');
  const capture = await randomLabCapture(48, 3, false);
  // an encoder-decoder's: its cross-attention first, the encoder's self-attention (model layer 5) second
  const encoder = { ...capture.layers[0], part: 'encoder' as const };
  const cross = { ...randomAttention('lab cross', 2, 48), part: 'cross' as const };
  const whole = { ...capture, layers: [cross, encoder], layerIndices: [4, 5] };
  const opts = { clusters: 5, hashes: 3, routingWindow: 2, head: { layer: 5, head: 2 } };
  const lab = efficientAttentionLab(whole, opts);
  assert.equal(lab.buckets?.layer, 5);
  assert.deepEqual(headBuckets(whole, 1, 2, opts), lab.buckets);
  // the options it ran with decide the buckets: the defaults give others
  assert.notDeepEqual(headBuckets(whole, 1, 2), lab.buckets);
  assert.equal(headBuckets(whole, 0, 0, opts), undefined, 'cross-attention');
  assert.equal(headBuckets(whole, 1, 3, opts), undefined, 'no head 3');
  assert.equal(headBuckets({ ...whole, layers: [cross, { ...encoder, query: undefined, key: undefined }] }, 1, 2, opts), undefined, 'no queries and keys');
});
