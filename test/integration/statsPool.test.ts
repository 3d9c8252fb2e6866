// The engine's statistics and head distances shared out to worker threads: the same numbers as on
// one thread, the probabilities back in place afterwards, layers that share a buffer kept here, a
// dead worker named.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analysisOf, analysisPlan, analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { randomBert } from '../../src/model/builder/randomBert';
import { LoadedModel } from '../../src/model/capture';
import { StatsPool } from '../../src/engine/statsPool';
import { REPO } from '../helpers/paths';
import { randomAttention, randomCapture } from '../../src/analysis/syntheticAttention';
import { headMap } from '../../src/analysis/headDistance';
import type { LayerAttention } from '../../src/analysis/attentionCapture';
import { assertSameDistances, referenceDistances } from '../helpers/referenceDistances';

process.env.ORT_DISABLE_TELEMETRY = '1';
const WORKER = join(REPO, 'dist', 'statsWorker.js');

test('workers give the numbers one thread gives, and the probabilities come back', async () => {
  const n = 300;
  const capture = randomCapture(Array.from({ length: 5 }, (_, i) => randomAttention(`layer ${i}`, 3, n)));
  const copies = capture.layers.map((l) => l.probs.slice());
  const serial = analyzeCapture(capture, { headDistance: false });
  const pool = new StatsPool(WORKER, 3);
  try {
    const plan = analysisPlan(capture);
    const pending = pool.layerStats(plan);
    // five layers, three threads: one worker holds two layers, the other one, while this thread works on the last
    assert.equal(capture.layers.filter((l) => l.probs.length === 0).length, 3);
    assert.deepEqual(analysisOf(plan, await pending, { headDistance: false }), serial);
    capture.layers.forEach((l, i) => assert.deepEqual(l.probs, copies[i], `layer ${i} has its probabilities again`));
    // and again, with the workers warm
    assert.deepEqual(analysisOf(plan, await pool.layerStats(plan), { headDistance: false }), serial);
  } finally {
    pool.dispose();
  }
});

test("ONNX Runtime's own output buffers travel to the workers and back", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stats-pool-'));
  writeFileSync(join(dir, 'model.onnx'), randomBert({ layers: 4, heads: 4, headDim: 8, hidden: 32, intermediate: 64, vocab: 300, maxPositions: 300, layerNorm: true }, 'pool').model);
  const m = await LoadedModel.load({ model: join(dir, 'model.onnx'), executionProvider: 'cpu' });
  const capture = await m.capture({ ids: Array.from({ length: 260 }, (_, i) => 5 + ((i * 37) % 290)) });
  const copies = capture.layers.map((l) => l.probs.slice());
  const serial = analyzeCapture(capture);
  const pool = new StatsPool(WORKER, 2);
  try {
    const plan = analysisPlan(capture);
    const pending = pool.layerStats(plan);
    assert.ok(capture.layers.some((l) => l.probs.length === 0), 'a layer went to the worker');
    assert.deepEqual(analysisOf(plan, await pending), serial, 'head distances too, from the probabilities that came back');
    capture.layers.forEach((l, i) => assert.deepEqual(l.probs, copies[i]));
  } finally {
    pool.dispose();
  }
});

test('layers that view one buffer stay on this thread', async () => {
  const n = 300;
  const whole = randomAttention('both', 8, n);
  const half = 4 * n * n;
  const layers = [0, 1].map((k) => ({ name: `half ${k}`, heads: 4, queries: n, keys: n, probs: whole.probs.subarray(k * half, (k + 1) * half) }));
  const capture = randomCapture(layers);
  const serial = analyzeCapture(capture, { headDistance: false });
  const pool = new StatsPool(WORKER, 2);
  try {
    const plan = analysisPlan(capture);
    assert.deepEqual(analysisOf(plan, await pool.layerStats(plan), { headDistance: false }), serial);
    assert.equal(whole.probs.length, 8 * n * n, 'the shared buffer was not sent away');
  } finally {
    pool.dispose();
  }
});

test('a worker thread that dies fails the analysis with the layer it held', async () => {
  const dir = join(REPO, 'test-output');
  mkdirSync(dir, { recursive: true });
  const dying = join(dir, 'dyingStatsWorker.js');
  writeFileSync(dying, 'process.exit(3);\n');
  const n = 300;
  const capture = randomCapture(Array.from({ length: 4 }, (_, i) => randomAttention(`layer ${i}`, 3, n)));
  const pool = new StatsPool(dying, 2);
  try {
    await assert.rejects(pool.layerStats(analysisPlan(capture)), /a statistics worker thread exited with code 3; layer 'layer \d' was lost with it/);
  } finally {
    pool.dispose();
  }
});

test("head distances on the pool's threads: blocks of queries in workers, the numbers of one thread to the bit, the JavaScript loop's within 1e-9", async () => {
  // 24 heads at n = 300: enough work to share out; an encoder-decoder's parts, one of them causal
  const n = 300;
  const encoder = Array.from({ length: 4 }, (_, i): LayerAttention => ({ ...randomAttention(`enc ${i}`, 6, n), part: 'encoder' }));
  const decoder = Array.from({ length: 2 }, (_, i): LayerAttention => ({ ...randomAttention(`dec ${i}`, 12, n), part: 'decoder' }));
  const layers = [...encoder, ...decoder];
  const copies = layers.map((l) => l.probs.slice());
  const pool = new StatsPool(WORKER, 3);
  try {
    for (const causal of [false, true]) {
      const shared = await pool.headMap(layers, causal);
      assert.deepEqual(shared, headMap(layers, causal));
      const encoderJsd = shared.jsd.slice(0, 24).flatMap((row) => row.slice(0, 24));
      assertSameDistances(encoderJsd, referenceDistances(encoder, causal), `encoder, ${causal ? 'causal' : 'bidirectional'}`);
      assert.ok(shared.jsd[0].slice(24).every((d) => d === null || Number.isNaN(d)), 'no distances between the parts');
    }
    layers.forEach((l, i) => assert.deepEqual(l.probs, copies[i], 'the probabilities stay in place'));
  } finally {
    pool.dispose();
  }
});

test('a worker thread that dies fails the head distances with the queries it held', async () => {
  const dying = join(REPO, 'test-output', 'dyingStatsWorker.js');
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  writeFileSync(dying, 'process.exit(3);\n');
  const layers = Array.from({ length: 4 }, (_, i) => randomAttention(`layer ${i}`, 6, 300));
  const pool = new StatsPool(dying, 2);
  try {
    await assert.rejects(pool.headMap(layers, false), /a statistics worker thread exited with code 3; the head distances of queries \d+-\d+ were lost with it/);
  } finally {
    pool.dispose();
  }
});
