// Captures live in the engine: an analysis sends the host summaries and an id, and the host asks
// the engine for one head, one tile or the head map by that id. The host never receives a
// probability matrix larger than a head at n = 512 or a tile; a capture the engine let go
// (evicted, released, an engine restarted) is said to be gone.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EngineClient, EngineError } from '../../src/engine/engineClient';
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

test('an analysis at n = 512 leaves its 151 MB capture in the engine; a head, a tile and the head map come by id', async () => {
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
  } finally {
    engine.dispose();
  }
});

test('the head map of a kept capture equals the one the analysis would have given', async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
  try {
    const capture = { ids: ids.slice(0, 128), layers: [0, 1] };
    const skipped = await engine.analyze({ load, capture, analysis: { headDistanceSeconds: 0 }, returnAttention: false, keep: { budgetBytes: 2 ** 30 } });
    const withMap = await engine.analyze({ load, capture, analysis: {}, returnAttention: false });
    assert.deepEqual(await engine.headMap({ capture: skipped.captureId! }), withMap.analysis.headDistance);
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
