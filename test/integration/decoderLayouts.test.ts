// Decoder layouts: a merged decoder (optimum's decoder_model_merged.onnx), whose attention is inside
// the branches of an If (the prompt through the branch without a cache, each step of a recurrence
// through the one with it), and a decoder with a static cache (fixed-length caches, write_indices,
// nonpad_kv_seqlen, ONNX's Attention op at opset 24).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TINY_DECODER_SHAPE, mergedDecoder } from '../../src/model/builder/mergedDecoder';
import { LoadedModel } from '../../src/model/capture';
import { staticCacheDecoder } from '../../src/model/builder/staticCacheDecoder';

process.env.ORT_DISABLE_TELEMETRY = '1';
const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-merged-'));
const IDS = [3, 9, 1, 22, 7, 5];

function mergedFolder(name: string, branchInput?: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'decoder_model_merged.onnx'), mergedDecoder(TINY_DECODER_SHAPE, true, undefined, branchInput).model);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_positions: TINY_DECODER_SHAPE.maxPositions }));
  return dir;
}

test('merged decoder: the attention inside the If is found in both branches and the prompt runs the no-cache branch', async () => {
  const merged = await LoadedModel.load({ model: mergedFolder('merged'), executionProvider: 'cpu' });
  assert.match(merged.info.path, /onnx\/decoder_model_merged\.onnx$/);
  assert.deepEqual(merged.info.inputs.find((i) => i.name === 'use_cache_branch')?.role, 'cacheBranch');
  assert.deepEqual(merged.info.attention.map((a) => [a.op, a.heads, a.inBranch]), [
    ['Softmax', 2, 'optimum::if'],
    ['Softmax', 2, 'optimum::if'],
  ]);
  const twinPath = join(scratch, 'twin.onnx');
  writeFileSync(twinPath, mergedDecoder(TINY_DECODER_SHAPE, false).model);
  const twin = await LoadedModel.load({ model: twinPath, executionProvider: 'cpu' });
  const a = await merged.capture({ ids: IDS, includeQueryKey: true });
  const b = await twin.capture({ ids: IDS, includeQueryKey: true });
  a.layers.forEach((l, i) => {
    assert.equal(l.queries, IDS.length);
    l.probs.forEach((p, j) => assert.ok(Math.abs(p - b.layers[i].probs[j]) < 1e-6, `layer ${i} [${j}]`));
    for (let q = 0; q < IDS.length; q++) for (let k = q + 1; k < IDS.length; k++) assert.equal(l.probs[q * IDS.length + k], 0);
    assert.deepEqual(l.query?.data, b.layers[i].query?.data);
    assert.deepEqual(l.key?.data, b.layers[i].key?.data);
  });

  // One token a run through the cache branch gives each query's row again.
  const steps = await merged.recurrence({ ids: IDS, segment: IDS.length, memory: IDS.length });
  for (const step of steps.steps) {
    step.rows.forEach((rows, layer) => {
      const whole = a.layers[layer];
      for (let h = 0; h < whole.heads; h++) {
        for (let k = 0; k <= step.position; k++) {
          const want = whole.probs[(h * IDS.length + step.position) * IDS.length + k];
          assert.ok(Math.abs(rows[h * (step.position + 1) + k] - want) < 1e-5, `step ${step.position} layer ${layer} head ${h} key ${k}`);
        }
      }
    });
  }
  await merged.release();
  await twin.release();
});

test('a merged decoder whose branch input is not named use_cache_branch is refused with that input', async () => {
  await assert.rejects(LoadedModel.load({ model: mergedFolder('no-branch-input', 'cache_flag'), executionProvider: 'cpu' }), /inputs Attention Lens cannot fill: cache_flag \(bool \[1\]\)/);
});

test('static cache: zero-filled caches written at 0, the keys cropped to the text, the same attention as without a cache', async () => {
  const cached = join(scratch, 'static.onnx');
  writeFileSync(cached, staticCacheDecoder(TINY_DECODER_SHAPE, 16).model);
  const plain = join(scratch, 'static-twin.onnx');
  writeFileSync(plain, staticCacheDecoder(TINY_DECODER_SHAPE, undefined).model);
  const m = await LoadedModel.load({ model: cached, executionProvider: 'cpu' });
  assert.deepEqual(
    m.info.inputs.map((i) => i.role),
    ['ids', 'writeIndex', 'kvLength', 'past', 'past', 'past', 'past'],
  );
  assert.equal(m.info.maxPositions, 16);
  const twin = await LoadedModel.load({ model: plain, executionProvider: 'cpu' });
  const a = await m.capture({ ids: IDS, includeQueryKey: true });
  const b = await twin.capture({ ids: IDS, includeQueryKey: true });
  a.layers.forEach((l, i) => {
    assert.equal(l.keys, IDS.length, 'keys cropped to the text');
    l.probs.forEach((p, j) => assert.ok(Math.abs(p - b.layers[i].probs[j]) < 1e-6, `layer ${i} [${j}]`));
    assert.equal(l.key?.positions, IDS.length);
  });
  // a text longer than the cache: the cache's length is the limit, and the message says so
  await assert.rejects(m.capture({ ids: Array.from({ length: 20 }, () => 3) }), /20 tokens long but the model takes at most 16 positions \(the length of its static key\/value cache\)/);
  await m.release();
  await twin.release();
});
