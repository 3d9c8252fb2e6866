import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { captureSummary, headTile } from '../../src/analysis/captureViews';
import { randomAttention, randomCapture } from '../../src/analysis/syntheticAttention';
import type { CaptureSummary } from '../../src/protocol';
import { shapeMismatch } from '../../src/protocol';
import { comparisonKind, statisticDifferenceBound, statisticDifferences, tileDifference, tokenMismatch } from '../../webview/comparison';
import { zoomedWindow } from '../../webview/zoomedWindow';

const capture = (seed: string, heads: number[], n: number) => randomCapture(heads.map((h, i) => randomAttention(`${seed}-${i}`, h, n)));
const summary = (seed: string, heads: number[], n: number, model = '/m/a.onnx'): CaptureSummary => {
  const c = capture(seed, heads, n);
  return captureSummary(model, c, analyzeCapture(c));
};

test('captures of other layers or heads are not compared, and the line says what differs', () => {
  const a = summary('a', [2, 2], 8);
  assert.equal(shapeMismatch(a, summary('b', [2, 2], 12)), undefined, 'other token counts are the same shape');
  assert.equal(shapeMismatch(a, summary('b', [2, 2, 2], 8)), 'the first capture has 2 layers, the second 3');
  assert.equal(shapeMismatch(a, summary('b', [2, 4], 8)), 'layer 1 has 2 heads in the first capture, 4 in the second');
  const other = summary('b', [2, 2], 8);
  assert.equal(shapeMismatch(a, { ...other, layers: other.layers.map((l, i) => ({ ...l, index: i + 3 })) }), 'the first capture holds layer 0 where the second holds layer 3');
  assert.equal(shapeMismatch(a, { ...other, layers: other.layers.map((l) => ({ ...l, part: 'cross' as const })) }), 'layer 0 is self-attention in the first capture, cross in the second');
});

test('one model on two texts, or two models; token counts that differ leave no cell-wise difference', () => {
  const a = summary('a', [2], 8);
  assert.equal(comparisonKind(a, summary('b', [2], 8)), 'the same model on two texts');
  assert.equal(comparisonKind(a, summary('b', [2], 8, '/m/b.onnx')), 'two models with the same layers and heads');
  assert.equal(tokenMismatch(a, summary('b', [2], 8), 0), undefined);
  assert.match(tokenMismatch(a, summary('b', [2], 11), 0)!, /different token counts \(8 tokens in the first capture, 11 tokens in the second\)/);
});

test('a head difference is first − second cell by cell, and none for tiles of other cells', () => {
  const [a, b] = [capture('a', [2], 10), capture('b', [2], 10)];
  const [ta, tb] = [headTile(a, 0, 1, 0, 10, 0, 10, 256)!, headTile(b, 0, 1, 0, 10, 0, 10, 256)!];
  const d = tileDifference(ta, tb)!;
  assert.equal(d.length, 10);
  for (let q = 0; q < 10; q++) for (let k = 0; k < 10; k++) assert.equal(d[q][k], a.layers[0].probs[100 + q * 10 + k] - b.layers[0].probs[100 + q * 10 + k]);
  assert.equal(tileDifference(ta, headTile(capture('c', [2], 12), 0, 1, 0, 12, 0, 12, 256)!), undefined);
  assert.equal(tileDifference(ta, headTile(b, 0, 1, 0, 10, 0, 10, 4)!), undefined, 'blocks of other sizes');
});

test('a statistic differs head by head, within its own reach', () => {
  const [a, b] = [summary('a', [2, 3], 8), summary('b', [2, 3], 8)];
  const d = statisticDifferences(a, b, 'entropyNats');
  assert.deepEqual([d.layers, d.heads], [[0, 1], 3]);
  assert.equal(d.difference[0][2], null, 'a head the layer lacks');
  const head = (s: CaptureSummary, l: number, h: number) => s.analysis!.heads.find((x) => x.layer === l && x.head === h)!.entropyNats;
  assert.equal(d.difference[1][2], head(a, 1, 2) - head(b, 1, 2));
  assert.deepEqual([d.first[1][2], d.second[1][2]], [head(a, 1, 2), head(b, 1, 2)]);
  assert.equal(statisticDifferenceBound(a, b, 'entropyNats'), Math.log(8));
  assert.equal(statisticDifferenceBound(a, summary('c', [2, 3], 20), 'meanDistance'), 19);
  assert.equal(statisticDifferenceBound(a, b, 'toCls'), 1);
});

test('a zoom asks for the window it shows, a reset for all of it', () => {
  assert.equal(zoomedWindow({ 'xaxis.autorange': true }, 300, 300), 'all');
  assert.deepEqual(zoomedWindow({ 'xaxis.range[0]': 10.4, 'xaxis.range[1]': 20.6, 'yaxis.range[0]': 50.5, 'yaxis.range[1]': 40.2 }, 300, 300), { q0: 40, q1: 52, k0: 10, k1: 22 });
  assert.equal(zoomedWindow({ 'xaxis.tickvals': [1, 2] }, 300, 300), undefined);
  assert.equal(zoomedWindow({ 'xaxis.range[0]': 400, 'xaxis.range[1]': 500, 'yaxis.range[0]': 0, 'yaxis.range[1]': 5 }, 300, 300), undefined, 'a window past the head');
});
