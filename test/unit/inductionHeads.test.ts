// The induction and duplicate-token scores on matrices worked out by hand, and the probe's ids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeCapture, corpusAnalysis } from '../../src/analysis/attentionAnalysis';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { headStats, tokenRoles } from '../../src/analysis/headStats';
import { repeatedRandomIds } from '../../src/analysis/inductionProbe';

const close = (a: number | null, b: number, tol = 1e-6): void => assert.ok(a !== null && Math.abs(a - b) <= tol, `${a} vs ${b}`);

// <|endoftext|> a b c a b c: the second a, b, c (positions 4-6) occurred at 1-3
const TOKENS = ['<|endoftext|>', 'a', 'b', 'c', 'a', 'b', 'c'];
const N = TOKENS.length;

/** Rows 0-3 uniform over what they may see; the repeated tokens split between the token after the earlier occurrence, the occurrence and themselves. */
function attention(causal: boolean): Float32Array {
  const A = new Float32Array(N * N);
  for (let i = 0; i < 4; i++) for (let j = 0; j < (causal ? i + 1 : N); j++) A[i * N + j] = 1 / (causal ? i + 1 : N);
  A[4 * N + 2] = 0.8;
  A[4 * N + 1] = 0.2;
  A[5 * N + 3] = 0.6;
  A[5 * N + 5] = 0.4;
  A[6 * N + 4] = 1;
  return A;
}

test('previous occurrences: the most recent earlier one, none for special tokens or a repeat of the token just before', () => {
  assert.deepEqual([...tokenRoles(TOKENS, true).prevOccurrence], [-1, -1, -1, -1, 1, 2, 3]);
  assert.deepEqual([...tokenRoles(['x', 'x', 'y', 'x', 'y', 'x'], true).prevOccurrence], [-1, -1, -1, 1, 2, 3]);
  assert.deepEqual([...tokenRoles(['[CLS]', 'a', '[SEP]', 'b', '[SEP]'], false).prevOccurrence], [-1, -1, -1, -1, -1]);
});

test('induction: mean attention from a repeated token to the token after its earlier occurrence; duplicate-token: to the occurrence itself', () => {
  // the causal pass in JavaScript, the bidirectional one in the WebAssembly row kernel: the same pairs
  for (const causal of [true, false]) {
    const s = headStats(attention(causal), 0, N, tokenRoles(TOKENS, causal), new Float64Array(2 * N - 1));
    close(s.induction, (0.8 + 0.6 + 1) / 3);
    close(s.toPrevOccurrence, 0.2 / 3);
  }
  const none = headStats(new Float32Array(9).fill(1 / 3), 0, 3, tokenRoles(['a', 'b', 'c'], false), new Float64Array(5));
  assert.equal(none.induction, null);
  assert.equal(none.toPrevOccurrence, null);
});

test('the induction score through the analysis: labelled at half the attention, null for cross-attention, averaged over the texts where it applies', () => {
  const capture = (tokens: string[], probs: Float32Array): AttentionCapture => ({
    tokens,
    inputIds: tokens.map((_, i) => i),
    offsets: tokens.map(() => [0, 0]),
    layerIndices: [0],
    layers: [{ name: 'l', heads: 1, queries: tokens.length, keys: tokens.length, probs }],
    executionProvider: 'cpu',
    warnings: [],
  });
  const repeated = analyzeCapture(capture(TOKENS, attention(true)), { headDistance: false });
  close(repeated.heads[0].induction, 0.8);
  assert.ok(repeated.heads[0].labels.includes('induction'), repeated.heads[0].labels.join());
  const plain = analyzeCapture(capture(['a', 'b'], Float32Array.of(1, 0, 0.5, 0.5)), { headDistance: false });
  assert.equal(plain.heads[0].induction, null);
  const both = corpusAnalysis([repeated, plain]);
  close(both.heads[0].induction, 0.8);
  // cross-attention: the queries' earlier occurrences are positions of another text
  const cross: AttentionCapture = {
    ...capture(TOKENS, new Float32Array(0)),
    target: { tokens: ['a', 'a', 'b', 'a'], inputIds: [1, 1, 2, 1], offsets: [[0, 0], [0, 0], [0, 0], [0, 0]] },
    layers: [{ name: 'x', part: 'cross', heads: 1, queries: 4, keys: N, probs: new Float32Array(4 * N).fill(1 / N) }],
  };
  assert.equal(analyzeCapture(cross, { headDistance: false }).heads[0].induction, null);
});

test('the probe: distinct ids drawn by the seed from the ordinary tokens, shown twice after the BOS', () => {
  const probe = { length: 20, seed: 7, bosId: 0 };
  const special = new Set([0, 1, 2]);
  const ids = repeatedRandomIds(probe, 30, special);
  assert.equal(ids.length, 41);
  assert.equal(ids[0], 0);
  const copy = ids.slice(1, 21);
  assert.deepEqual(ids.slice(21), copy);
  assert.equal(new Set(copy).size, 20);
  assert.ok(copy.every((id) => id >= 3 && id < 30));
  assert.deepEqual(repeatedRandomIds(probe, 30, special), ids);
  assert.notDeepEqual(repeatedRandomIds({ ...probe, seed: 8 }, 30, special), ids);
  assert.deepEqual(repeatedRandomIds({ length: 3, seed: 1, bosId: null }, 3, new Set()).sort(), [0, 0, 1, 1, 2, 2]);
  assert.throws(() => repeatedRandomIds({ ...probe, length: 28 }, 30, special), /needs 28 distinct ids; the vocabulary has 27/);
});
