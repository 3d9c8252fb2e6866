import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictedPositions, predictionLine, topProbabilities } from '../../src/analysis/tokenPredictions';

test('the top k of a row of logits are its softmax, most probable first, and the row becomes the softmax', () => {
  const logits = [1, 3, 2, 0];
  const row = Float32Array.from(logits);
  const top = topProbabilities(row, 2);
  // by hand: exp(l - 3) / sum
  const e = logits.map((l) => Math.exp(l - 3));
  const sum = e.reduce((a, b) => a + b);
  assert.deepEqual(top.map((t) => t.id), [1, 2]);
  for (const t of top) assert.ok(Math.abs(t.probability - e[t.id] / sum) < 1e-7, `${t.id}: ${t.probability}`);
  assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-6);
  assert.ok(Math.abs(row[3] - e[3] / sum) < 1e-7);
});

test('logits far past exp range stay finite: the largest is subtracted first', () => {
  const top = topProbabilities(Float32Array.from([1000, 999, -1000]), 3);
  assert.deepEqual(top.map((t) => t.id), [0, 1]);
  assert.ok(Math.abs(top[0].probability - 1 / (1 + Math.exp(-1))) < 1e-7);
  assert.ok(top.reduce((a, t) => a + t.probability, 0) <= 1);
});

test('ties keep the lower id first, and k of all equal logits sum to k / vocab', () => {
  const top = topProbabilities(new Float32Array(8).fill(0.5), 5);
  assert.deepEqual(top.map((t) => t.id), [0, 1, 2, 3, 4]);
  for (const t of top) assert.equal(t.probability, 1 / 8);
  assert.deepEqual(topProbabilities(Float32Array.from([0, 2, 1, 2, 2]), 2).map((t) => t.id), [1, 3]);
});

test('-Infinity and NaN logits have probability 0 and are never listed; a row of nothing else predicts nothing', () => {
  const top = topProbabilities(Float32Array.from([-Infinity, 0, NaN, Math.log(3), -Infinity]), 5);
  assert.deepEqual(top.map((t) => t.id), [3, 1]);
  assert.ok(Math.abs(top[0].probability - 0.75) < 1e-7 && Math.abs(top[1].probability - 0.25) < 1e-7);
  assert.deepEqual(topProbabilities(Float32Array.from([-Infinity, -Infinity]), 5), []);
  assert.deepEqual(topProbabilities(Float32Array.from([NaN]), 5), []);
  assert.deepEqual(topProbabilities(Float32Array.from([Infinity, 0, Infinity]), 5).map((t) => [t.id, t.probability]), [[0, 0.5], [2, 0.5]]);
});

test('the positions predicted: every [MASK] or <mask>; without one, a causal model\'s last token only', () => {
  const never = (): boolean => assert.fail('causality is not asked when there is a mask');
  assert.deepEqual(predictedPositions(['[CLS]', 'a', '[MASK]', '[MASK]', '[SEP]'], never), [{ position: 2, kind: 'mask' }, { position: 3, kind: 'mask' }]);
  assert.deepEqual(predictedPositions(['<s>', '<mask>', '</s>'], never), [{ position: 1, kind: 'mask' }]);
  assert.deepEqual(predictedPositions(['a', 'b'], () => false), []);
  assert.deepEqual(predictedPositions(['a', 'b'], () => true), [{ position: 1, kind: 'next' }]);
  const line = predictionLine({ position: 2, kind: 'mask', top: [{ id: 7, token: 'paris', probability: 0.4123 }, { id: 9, token: 'lyon', probability: 0.00312 }] }, ['[CLS]', 'a', '[MASK]']);
  assert.equal(line, '[MASK] at 2: "paris" 0.41, "lyon" 0.0031');
});
