import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AttentionShape,
  EstimateError,
  denseEstimate,
  memoryEstimate,
} from '../../src/memory/attentionMemory';
import { binaryBytes, decimalBytes } from '../../src/analysis/units';
import { bandScores, fixedScores, stridedScores } from '../../src/analysis/patternCounts';
import { memoryMarkdown } from '../../src/memory/memoryReport';
import { attentionShape, dimsFromValues } from '../../src/memory/modelDims';

const bertBase = (seq: number, extra: Partial<AttentionShape> = {}): AttentionShape => ({
  layers: 12,
  heads: 12,
  kvHeads: 12,
  headDim: 64,
  hidden: 768,
  seq,
  batch: 1,
  dtype: 'fp32',
  mode: 'inference',
  causal: false,
  ...extra,
});

const MiB = 1024 ** 2;

test('BERT-base at n = 512, fp32: the published figures exactly', () => {
  const d = denseEstimate(bertBase(512));
  assert.equal(d.keysFloatsPerLayer, 393_216);
  assert.equal(d.keysFloatsPerLayer * 4, 1.5 * MiB);
  assert.equal(d.attentionFloatsPerLayer, 3_145_728);
  assert.equal(d.attentionBytesPerLayer, 12 * MiB);
  assert.equal(d.attentionFloatsAllLayers, 37_748_736);
  assert.equal(decimalBytes(d.attentionBytesAllLayers), '151 MB');
  assert.equal(binaryBytes(d.attentionBytesAllLayers), '144 MiB');
  assert.equal(decimalBytes(denseEstimate(bertBase(1024)).attentionBytesAllLayers), '604 MB');
  assert.equal(decimalBytes(denseEstimate(bertBase(2048)).attentionBytesAllLayers), '2.42 GB');
  assert.equal(binaryBytes(denseEstimate(bertBase(2048)).attentionBytesAllLayers), '2.25 GiB');
});

test('Korthikanti et al.: BERT-base n = 512, b = 1 is 27.75 MiB a layer, 15 MiB of it attention', () => {
  const d = denseEstimate(bertBase(512));
  assert.equal(d.activationBytesPerLayer, 27.75 * MiB);
  assert.equal(d.activationAttentionBytesPerLayer, 15 * MiB);
});

test('grouped-query attention shrinks keys, values and the cache, not the scores', () => {
  const llama3 = { layers: 32, heads: 32, kvHeads: 8, headDim: 128, hidden: 4096, seq: 8192, batch: 1, dtype: 'bf16' as const, mode: 'inference' as const, causal: true };
  const d = denseEstimate(llama3);
  assert.equal(d.keysFloatsPerLayer, 8 * 128 * 8192);
  assert.equal(d.queriesFloatsPerLayer, 32 * 128 * 8192);
  assert.equal(d.kvCacheBytes, 2 * 32 * 8 * 128 * 8192 * 2); // 1 GiB
  assert.equal(binaryBytes(d.kvCacheBytes), '1 GiB');
  assert.equal(d.attentionFloatsPerLayer, 32 * 8192 * 8192);
  assert.equal(d.flopsPerLayer, 4 * 32 * 8192 * 8192 * 128);
});

// Brute force counts of the patterns as METHODS.md defines them.
function brute(n: number, allowed: (i: number, j: number) => boolean, causal: boolean): number {
  let c = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if ((!causal || j <= i) && allowed(i, j)) c++;
  return c;
}

test('closed-form pattern counts equal brute force, causal and bidirectional', () => {
  for (const causal of [true, false]) {
    for (const n of [1, 5, 16, 37, 64]) {
      for (const l of [1, 3, 4, 8]) {
        assert.equal(stridedScores(n, l, causal), brute(n, (i, j) => Math.abs(i - j) < l || (i - j) % l === 0, causal), `strided n ${n} l ${l}`);
        for (const c of [1, 2, l].filter((c) => c <= l)) {
          assert.equal(
            fixedScores(n, l, c, causal),
            brute(n, (i, j) => Math.floor(i / l) === Math.floor(j / l) || j % l >= l - c, causal),
            `fixed n ${n} l ${l} c ${c} causal ${causal}`,
          );
        }
        assert.equal(bandScores(n, l, causal), brute(n, (i, j) => Math.abs(i - j) <= l, causal), `band n ${n} w ${l}`);
      }
    }
  }
});

test('methods: sub-quadratic scores, their dependencies, and the memory each holds', () => {
  const e = memoryEstimate(bertBase(4096), { window: 128 });
  const dense = e.dense.attentionFloatsPerLayer;
  for (const [name, m] of Object.entries(e.methods)) assert.ok(m.attentionFloatsPerLayer < dense, `${name} computes fewer scores than dense`);
  assert.equal(e.methods.strided.params.stride, 64);
  assert.equal(e.methods.local.longestDependency, 12 * 128);
  assert.equal(e.methods.transformerXL.longestDependency, 12 * 512);
  assert.equal(e.methods.compressive.longestDependency, 12 * (512 + 3 * 512));
  assert.equal(e.methods.lsh.attentionFloatsPerLayer, 12 * 4 * 64 * 64 * (2 * 64 - 1));
  // Reversible layers: training keeps one layer's LSH scores, whatever the depth.
  const training = memoryEstimate(bertBase(4096, { mode: 'training' })).methods.lsh;
  assert.equal(training.bytesAllLayers, training.attentionFloatsPerLayer * 4);
  const irreversible = memoryEstimate(bertBase(4096, { mode: 'training' }), { reversible: false }).methods.lsh;
  assert.equal(irreversible.bytesAllLayers, 12 * irreversible.attentionFloatsPerLayer * 4);
  // Adaptive span with one short head and the rest long.
  const spans = memoryEstimate(bertBase(4096, { causal: true }), { spans: [8, ...Array(11).fill(1000)], ramp: 32 }).methods.adaptiveSpan;
  assert.equal(spans.longestDependency, 12 * 1032);
});

test('bad sizes are refused with a message; absurd ones are estimated, not looped over', () => {
  assert.throws(() => denseEstimate(bertBase(0)), (e: Error) => e instanceof EstimateError && /seq must be a positive whole number, not 0/.test(e.message));
  assert.throws(() => denseEstimate(bertBase(-5)), EstimateError);
  assert.throws(() => denseEstimate(bertBase(512, { kvHeads: 5 })), /multiple of key\/value heads/);
  const huge = memoryEstimate(bertBase(1e9));
  assert.equal(huge.dense.attentionFloatsPerLayer, 12e18);
  assert.match(binaryBytes(huge.dense.attentionBytesAllLayers), /EiB$/);
  assert.ok(Number.isFinite(huge.methods.fixed.bytesAllLayers));
});

test("a decoder's KV cache holds its sliding window at most; an encoder keeps none", () => {
  const estimate = (config: Record<string, unknown>, seq: number) => {
    const shaped = attentionShape(dimsFromValues(new Map(Object.entries(config))), { seq, batch: 1, dtype: 'bf16', mode: 'inference' });
    assert.ok('shape' in shaped);
    return { shape: shaped.shape, dense: denseEstimate(shaped.shape) };
  };
  // Mistral-7B-v0.1: 32 layers, 8 KV heads of 128, a 4096-position window on every layer
  const mistral = { model_type: 'mistral', num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, hidden_size: 4096, sliding_window: 4096, max_position_embeddings: 32768 };
  assert.equal(binaryBytes(estimate(mistral, 32768).dense.kvCacheBytes), '512 MiB');
  assert.equal(estimate(mistral, 1024).dense.kvCacheBytes, 2 * 32 * 8 * 128 * 1024 * 2, 'below the window the cache grows with n');
  assert.equal(binaryBytes(estimate({ ...mistral, use_sliding_window: false }, 32768).dense.kvCacheBytes), '4 GiB', 'use_sliding_window: false');
  // layers that alternate windowed and global attention keep the window on the windowed ones only
  assert.deepEqual(estimate({ ...mistral, model_type: 'gemma2' }, 32768).shape.windowedLayers?.length, 16);
  // an encoder
  const bert = { model_type: 'bert', num_hidden_layers: 12, num_attention_heads: 12, hidden_size: 768 };
  const e = estimate(bert, 512);
  assert.equal(e.dense.kvCacheBytes, 0);
  assert.match(memoryMarkdown(memoryEstimate(e.shape)), /\| KV cache \| none \(encoder\) \|/);
  assert.match(memoryMarkdown(memoryEstimate(estimate(mistral, 32768).shape)), /\| self \| 32 \| 32,768 × 4,096 \| 8 GiB \| 512 MiB \|/);
  assert.match(memoryMarkdown(memoryEstimate(estimate(mistral, 32768).shape)), /32 heads \(8 KV\) of 128, window 4096/);
});

test("an encoder-decoder config of BART's or Whisper's keys gives its encoder's estimate instead of a refusal", () => {
  // whisper-tiny: 4 encoder layers of 6 heads, d_model 384, 1500 source positions
  const whisper = { model_type: 'whisper', d_model: 384, encoder_layers: 4, encoder_attention_heads: 6, decoder_layers: 4, decoder_attention_heads: 6, max_source_positions: 1500, max_target_positions: 448 };
  const shaped = attentionShape(dimsFromValues(new Map(Object.entries(whisper))), { batch: 1, dtype: 'fp32', mode: 'inference' });
  assert.ok('shape' in shaped, JSON.stringify(shaped));
  assert.deepEqual([shaped.shape.layers, shaped.shape.heads, shaped.shape.headDim, shaped.shape.seq], [4, 6, 64, 1500]);
});
