import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { captureSummary, headMatrix } from '../../src/analysis/captureViews';
import { CaptureSummary, HeadMatrix } from '../../src/protocol';

const capture: AttentionCapture = {
  tokens: ['[CLS]', 'a', '[SEP]'],
  inputIds: [2, 40, 3],
  offsets: [[0, 0], [0, 1], [1, 1]],
  layerIndices: [0],
  executionProvider: 'cpu',
  warnings: [],
  layers: [{ name: 'layer 0', heads: 2, queries: 3, keys: 3, probs: Float32Array.from({ length: 18 }, (_, i) => i) }],
};

test('the summary carries no matrices, and a head is cut out of its layer', () => {
  const s: CaptureSummary = captureSummary('/m.onnx', capture);
  assert.deepEqual(s.layers, [{ index: 0, name: 'layer 0', heads: 2 }]);
  assert.equal(JSON.stringify(s).includes('probs'), false);
  const m: HeadMatrix | undefined = headMatrix(capture, 0, 1);
  assert.deepEqual(Array.from(m!.probs), [9, 10, 11, 12, 13, 14, 15, 16, 17]);
  assert.equal(headMatrix(capture, 0, 2), undefined);
  assert.equal(headMatrix(capture, 1, 0), undefined);
});

test('tiles: a window reduced by the maximum of each block, exact at full zoom', async () => {
  const { attentionTile } = await import('../../src/analysis/attentionTiles');
  // 4 x 4 head: value = 10 q + k
  const probs = Float32Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
  const t = attentionTile(probs, 0, 4, 0, 4, 0, 4, 2, 2);
  assert.deepEqual([t.rows, t.cols, t.rowStep, t.colStep], [2, 2, 2, 2]);
  assert.deepEqual(Array.from(t.values), [11, 13, 31, 33]);
  const exact = attentionTile(probs, 0, 4, 1, 3, 2, 4, 100, 100);
  assert.deepEqual(Array.from(exact.values), [12, 13, 22, 23]);
  assert.deepEqual([exact.q0, exact.k0, exact.rowStep], [1, 2, 1]);
});

// An encoder-decoder of 3 source and 2 target tokens: encoder 3 x 3, decoder 2 x 2, cross 2 x 3; value = 100 h + 10 q + k.
const layerOf = (part: 'encoder' | 'decoder' | 'cross', heads: number, queries: number, keys: number) => ({
  name: part,
  part,
  heads,
  queries,
  keys,
  probs: Float32Array.from({ length: heads * queries * keys }, (_, i) => 100 * Math.floor(i / (queries * keys)) + 10 * Math.floor((i % (queries * keys)) / keys) + (i % keys)),
});
const seq2seq: AttentionCapture = {
  ...capture,
  target: { tokens: ['<s>', 'b'], offsets: [[0, 0], [0, 1]], inputIds: [0, 41] },
  layerIndices: [0, 6, 7],
  layers: [layerOf('encoder', 2, 3, 3), layerOf('decoder', 2, 2, 2), layerOf('cross', 1, 2, 3)],
};

test('a window of every head: clamped to each layer, cells within one tile together', async () => {
  const { headsWindow } = await import('../../src/analysis/captureViews');
  const tiles = headsWindow(seq2seq, 1, 3, 0, 3, 64);
  assert.deepEqual(tiles.map((t) => [t.layer, t.head]), [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]]);
  assert.deepEqual(Array.from(tiles[1].values), [110, 111, 112, 120, 121, 122]);
  // the decoder's 2 x 2 heads keep what of the window they have
  assert.deepEqual([tiles[2].q0, tiles[2].rows, tiles[2].cols], [1, 1, 2]);
  assert.deepEqual(Array.from(tiles[3].values), [110, 111]);
  // 144 heads of 256 tokens: 21 cells a side, not 64
  const many: AttentionCapture = { ...capture, layerIndices: [0], layers: [{ name: 'l', heads: 144, queries: 256, keys: 256, probs: new Float32Array(144 * 256 * 256) }] };
  const reduced = headsWindow(many, 0, 256, 0, 256, 64);
  assert.equal(reduced.length, 144);
  assert.ok(reduced.reduce((sum, t) => sum + t.values.length, 0) <= 256 * 256);
  assert.ok(reduced[0].rows < 64);
});

test("a token's row and column in every layer that reads its text", async () => {
  const { tokenRows } = await import('../../src/analysis/captureViews');
  const row = tokenRows(seq2seq, 1, 'query', 'source');
  assert.deepEqual(row.layers.map((l) => [l.layer, l.heads, l.length]), [[0, 2, 3]]);
  assert.deepEqual(Array.from(row.layers[0].values), [10, 11, 12, 110, 111, 112]);
  const column = tokenRows(seq2seq, 2, 'key', 'source');
  assert.deepEqual(column.layers.map((l) => [l.layer, l.length]), [[0, 3], [2, 2]]);
  assert.deepEqual(Array.from(column.layers[1].values), [2, 12]);
  const target = tokenRows(seq2seq, 1, 'query', 'target');
  assert.deepEqual(target.layers.map((l) => l.layer), [1, 2]);
  assert.deepEqual(Array.from(target.layers[1].values), [10, 11, 12]);
  assert.throws(() => tokenRows(seq2seq, 2, 'key', 'target'), /token 2 is out of range: the target text has 2 tokens/);
  assert.throws(() => tokenRows(capture, 0, 'query', 'target'), /no target text/);
});
