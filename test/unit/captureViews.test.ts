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
