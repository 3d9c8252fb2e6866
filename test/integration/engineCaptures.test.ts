// Captures live in the engine: an analysis sends the host summaries and an id, and the host asks
// the engine by that id for one head, one tile, a window of every head, a token's rows, a head's
// buckets or the head map. The host never receives a probability matrix larger than a head at
// n = 512 or a tile; a capture the engine let go (evicted, released, an engine restarted) is said
// to be gone.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EngineClient, EngineError } from '../../src/engine/engineClient';
import { seq2seqModels } from '../../src/model/builder/seq2seqModels';
import { randomBert } from '../../src/model/builder/randomBert';
import { ENGINE } from '../helpers/paths';

const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-kept-'));
// 12 layers of 12 heads at n = 512: 151 MB of probabilities, 144 heads
const model = join(scratch, 'wide.onnx');
writeFileSync(model, randomBert({ layers: 12, heads: 12, headDim: 8, hidden: 96, intermediate: 0, vocab: 271, maxPositions: 512, layerNorm: true }).model);
const load = { model, executionProvider: 'cpu' as const };
const ids = Array.from({ length: 512 }, (_, i) => 1 + ((i * 37) % 270));
const TILE_FLOATS = 256 * 256;

/** The float32 arrays in a message, by size: probabilities travel as them. */
function float32Arrays(value: unknown, found: Float32Array[] = []): Float32Array[] {
  if (value instanceof Float32Array) found.push(value);
  else if (Array.isArray(value)) for (const v of value) float32Arrays(v, found);
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) for (const v of Object.values(value)) float32Arrays(v, found);
  return found;
}

const gone = (e: unknown): boolean => e instanceof EngineError && e.kind === 'gone' && /no longer holds capture/.test(e.message);
const refused = (message: RegExp) => (e: unknown): boolean => e instanceof EngineError && e.kind === 'input' && message.test(e.message);
const NO_VECTORS = /^this capture holds no queries and keys: run the lab \(Run the lab in the Methods tab\) to see LSH buckets and routing clusters$/;

test('an analysis at n = 512 leaves its 151 MB capture in the engine; a head, a tile, a window of every head and a token\'s rows come by id', async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
  try {
    const r = await engine.analyze({ load, capture: { ids }, analysis: { headDistanceSeconds: 0 }, returnAttention: false, keep: { budgetBytes: 2 ** 30 } });
    assert.ok(r.captureId);
    assert.equal(r.capture.layers.length, 12);
    assert.deepEqual(float32Arrays(r).map((a) => a.length).filter((n) => n > 0), [], 'no probabilities in the analysis');
    // one head, exactly the one a capture returning everything holds
    const full = await engine.capture(load, { ids, layers: [3] });
    const { matrix } = await engine.head({ capture: r.captureId!, layer: 3, head: 5 });
    assert.deepEqual([matrix.queries, matrix.keys], [512, 512]);
    assert.deepEqual(Array.from(matrix.probs), Array.from(full.layers[0].probs.subarray(5 * 512 * 512, 6 * 512 * 512)));
    // a tile of the whole head: at most 256 cells a side, each the largest weight of its block
    const tile = await engine.tile({ capture: r.captureId!, layer: 3, head: 5, q0: 0, q1: 512, k0: 0, k1: 512, maxCells: 256 });
    assert.ok(float32Arrays(tile).every((a) => a.length <= TILE_FLOATS));
    assert.equal(tile.values[0], Math.max(matrix.probs[0], matrix.probs[1], matrix.probs[512], matrix.probs[513]));
    // words: the engine cuts them too
    assert.ok((await engine.head({ capture: r.captureId!, layer: 0, head: 0, words: true })).labels);
    await assert.rejects(engine.head({ capture: r.captureId!, layer: 12, head: 0 }), /no head 0 in layer 12/);
    // the model view's thumbnails: every head's tile of one window, one tile's cells in all
    const { tiles } = await engine.window({ capture: r.captureId!, q0: 0, q1: 512, k0: 0, k1: 512, maxCells: 64 });
    assert.equal(tiles.length, 144);
    assert.deepEqual([tiles[3 * 12 + 5].layer, tiles[3 * 12 + 5].head], [3, 5]);
    assert.ok(float32Arrays(tiles).reduce((cells, a) => cells + a.length, 0) <= TILE_FLOATS);
    // token 7's row and column in every head of every layer, as bytes: head 5 of layer 3's are the head's
    const row = await engine.tokenRow({ capture: r.captureId!, token: 7, side: 'query', text: 'source' });
    const column = await engine.tokenRow({ capture: r.captureId!, token: 7, side: 'key', text: 'source' });
    for (const rows of [row, column]) {
      assert.deepEqual(rows.layers.map((l) => [l.layer, l.heads, l.length]), Array.from({ length: 12 }, (_, l) => [l, 12, 512]));
      assert.ok(rows.layers.every((l) => l.values instanceof Float32Array));
      assert.ok(float32Arrays(rows).every((a) => a.length <= TILE_FLOATS));
    }
    assert.deepEqual(Array.from(row.layers[3].values.subarray(5 * 512, 6 * 512)), Array.from(matrix.probs.subarray(7 * 512, 8 * 512)));
    assert.deepEqual(Array.from(column.layers[3].values.subarray(5 * 512, 6 * 512)), Array.from({ length: 512 }, (_, q) => matrix.probs[q * 512 + 7]));
    // analysed without the lab: no queries and keys to hash
    await assert.rejects(engine.buckets({ capture: r.captureId!, layer: 3, head: 5 }), refused(NO_VECTORS));
  } finally {
    engine.dispose();
  }
});

test("the head map of a kept capture equals the one the analysis would have given; a head's buckets, the lab's under its options", async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
  try {
    const capture = { ids: ids.slice(0, 128), layers: [0, 2] };
    const lab = { clusters: 4, hashes: 2, head: { layer: 2, head: 5 } };
    const skipped = await engine.analyze({ load, capture, analysis: { headDistanceSeconds: 0 }, lab, returnAttention: false, keep: { budgetBytes: 2 ** 30 } });
    const withMap = await engine.analyze({ load, capture, analysis: {}, returnAttention: false });
    assert.deepEqual(await engine.headMap({ capture: skipped.captureId! }), withMap.analysis.headDistance);
    // layer 1 of the capture is the model's layer 2; the kept options give the lab's 4 clusters and 2 rounds
    const buckets = await engine.buckets({ capture: skipped.captureId!, layer: 1, head: 5 });
    assert.deepEqual([buckets.layer, buckets.routingClusterSizes.length, buckets.lsh.length], [2, 4, 2]);
    assert.deepEqual(buckets, skipped.lab!.buckets);
    await assert.rejects(engine.buckets({ capture: skipped.captureId!, layer: 2, head: 0 }), refused(/^no head 0 in layer 2$/));
  } finally {
    engine.dispose();
  }
});

test('kept captures: the oldest go beyond the budget, a released one goes, and an engine restart loses them all', async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
  try {
    const capture = { ids: ids.slice(0, 64) };
    const perCapture = 144 * 64 * 64 * 4;
    const budgetBytes = Math.floor(2.5 * perCapture);
    const kept = [];
    for (let k = 0; k < 3; k++) kept.push((await engine.analyze({ load, capture, analysis: {}, returnAttention: false, keep: { budgetBytes } })).captureId!);
    await assert.rejects(engine.head({ capture: kept[0], layer: 0, head: 0 }), gone, 'the oldest was evicted');
    assert.ok(await engine.head({ capture: kept[1], layer: 0, head: 0 }));
    // asking for one makes it the most recent: the next capture evicts the other
    kept.push((await engine.analyze({ load, capture, analysis: {}, returnAttention: false, keep: { budgetBytes } })).captureId!);
    await assert.rejects(engine.head({ capture: kept[2], layer: 0, head: 0 }), gone);
    assert.ok(await engine.head({ capture: kept[1], layer: 0, head: 0 }));
    engine.release(kept[1]);
    await assert.rejects(engine.head({ capture: kept[1], layer: 0, head: 0 }), gone, 'released');
    engine.cancel();
    await assert.rejects(engine.head({ capture: kept[3], layer: 0, head: 0 }), gone, 'a fresh engine holds none of the old one');
  } finally {
    engine.dispose();
  }
});

test("an encoder-decoder's buckets are its encoder's: a decoder layer's are refused in one line", async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
  try {
    const folder = join(scratch, 'seq2seq');
    mkdirSync(folder);
    writeFileSync(join(folder, 'model.onnx'), seq2seqModels().single.model);
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'marian', decoder_start_token_id: 2 }));
    const lab = { head: { layer: 1, head: 1 } };
    const r = await engine.analyze({ load: { model: folder, executionProvider: 'cpu' }, capture: { ids: [5, 6, 7, 8, 9, 10], targetIds: [2, 8, 9] }, analysis: {}, lab, returnAttention: false, keep: { budgetBytes: 2 ** 30 } });
    const parts = r.capture.layers.map((l) => l.part);
    const encoder = parts.findIndex((p, i) => p === 'encoder' && r.capture.layerIndices[i] === 1);
    assert.deepEqual(await engine.buckets({ capture: r.captureId!, layer: encoder, head: 1 }), r.lab!.buckets);
    for (const part of ['decoder', 'cross'] as const) {
      await assert.rejects(engine.buckets({ capture: r.captureId!, layer: parts.indexOf(part), head: 0 }), refused(/^layer \d+ is the decoder's (self|cross)-attention: [^\n]*encoder's self-attention$/));
    }
  } finally {
    engine.dispose();
  }
});
