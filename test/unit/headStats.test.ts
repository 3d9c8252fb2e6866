// Each statistic on small matrices worked out by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttentionCapture, LayerAttention } from '../../src/analysis/attentionCapture';
import { analyzeCapture, corpusAnalysis } from '../../src/analysis/attentionAnalysis';
import { HEAD_DISTANCE_NS_PER_WORK, classicalMds, headDistanceWork, headDistances, headMap } from '../../src/analysis/headDistance';
import { captureSummary } from '../../src/analysis/captureViews';
import { headLabels } from '../../src/analysis/headLabels';
import { headStats, isCausal, tokenRoles } from '../../src/analysis/headStats';
import { CELL_SHIFT, entropyTable } from '../../src/analysis/smoothedEntropy';
import { rowKernel, rowSpace } from '../../src/analysis/rowKernel';
import { seededNormals } from '../../src/analysis/seededRandom';
import { wordIndices, wordLevelLayer } from '../../src/analysis/wordAttention';

const layer = (rows: number[][][]): LayerAttention => ({ name: 'l', heads: rows.length, queries: rows[0].length, keys: rows[0].length, probs: Float32Array.from(rows.flat(2)) });
const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('targets: [CLS], [SEP], punctuation, previous, next, self with Clark et al.\'s denominators', () => {
  // 4 tokens: [CLS] a . [SEP]
  const A = [
    [1, 0, 0, 0],
    [0.5, 0, 0.5, 0],
    [0, 1, 0, 0],
    [0, 0, 0.25, 0.75],
  ];
  const roles = tokenRoles(['[CLS]', 'a', '.', '[SEP]'], false);
  const s = headStats(Float32Array.from(A.flat()), 0, 4, roles, new Float64Array(7));
  close(s.toCls, 1.5 / 4);
  close(s.toSep, 0.75 / 4);
  close(s.toPunct, 0.75 / 4);
  close(s.toPrev, (0.5 + 1 + 0.25) / 4); // A[1][0] + A[2][1] + A[3][2], over all 4 queries
  close(s.toNext!, 0.5 / 4);
  close(s.toSelf, (1 + 0.75) / 4);
  close(s.meanDistance, (0.5 * 1 + 0.5 * 1 + 1 * 1 + 0.25 * 1) / 4);
});

test('entropy with 0.9999 A + 0.0001 / n, in nats, beside log n', () => {
  const n = 4;
  const uniform = headStats(new Float32Array(16).fill(0.25), 0, n, tokenRoles(['a', 'b', 'c', 'd'], false), new Float64Array(7));
  close(uniform.entropyNats, Math.log(4));
  close(uniform.uniformEntropyNats, Math.log(4));
  const oneHot = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const p1 = 0.9999 + 0.0001 / 4;
  const p0 = 0.0001 / 4;
  close(headStats(oneHot, 0, n, tokenRoles(['a', 'b', 'c', 'd'], false), new Float64Array(7)).entropyNats, -(p1 * Math.log(p1) + 3 * p0 * Math.log(p0)));
});

test('spans: smallest distance whose mass averaged over queries reaches 50/90/99%, and the per-query maximum', () => {
  // 5 tokens; query 0 looks 4 away, the others at themselves.
  const n = 5;
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === 0 ? (j === 4 ? 1 : 0) : j === i ? 1 : 0)));
  const s = headStats(Float32Array.from(A.flat()), 0, n, tokenRoles(Array(n).fill('x'), false), new Float64Array(9));
  assert.equal(s.span50, 0); // 4/5 of the mass is at distance 0
  assert.equal(s.span90, 4); // the rest is 4 away
  assert.equal(s.span99, 4);
  assert.equal(s.span90Max, 4);
});

test('causal attention: the next token is not counted, entropy and baseline over the visible keys', () => {
  const A = [
    [1, 0, 0],
    [0.5, 0.5, 0],
    [0.2, 0.3, 0.5],
  ];
  const l = layer([A]);
  assert.equal(isCausal([l]), true);
  const s = headStats(l.probs, 0, 3, tokenRoles(['a', 'b', 'c'], true), new Float64Array(5));
  assert.equal(s.toNext, null);
  close(s.uniformEntropyNats, (Math.log(1) + Math.log(2) + Math.log(3)) / 3);
  close(s.toPrev, (0.5 + 0.3) / 3);
  close(s.toFirst, (1 + 0.5 + 0.2) / 3);
  close(s.sinkMass, 0);
});

test('attention to the first position and the mass a sink takes, on both the causal and the bidirectional pass', () => {
  // rows that sum to 0.9: a tenth of each row goes to a sink outside the keys
  const sunk = [
    [0.9, 0, 0],
    [0.6, 0.3, 0],
    [0.5, 0.2, 0.2],
  ];
  const causal = headStats(layer([sunk]).probs, 0, 3, tokenRoles(['a', 'b', 'c'], true), new Float64Array(5));
  close(causal.toFirst, (0.9 + 0.6 + 0.5) / 3);
  close(causal.sinkMass, 0.1, 1e-6);
  const both = [
    [0.3, 0.3, 0.3],
    [0.7, 0.1, 0.1],
    [0.8, 0.05, 0.05],
  ];
  const bidirectional = headStats(layer([both]).probs, 0, 3, tokenRoles(['a', 'b', 'c'], false), new Float64Array(5));
  close(bidirectional.toFirst, (0.3 + 0.7 + 0.8) / 3, 1e-6);
  close(bidirectional.sinkMass, 0.1, 1e-6);
});

test('labels: majority targets, broad by a share of log n, local by a short span', () => {
  const base = { toCls: 0, toSep: 0, toPunct: 0, toPrev: 0, toNext: 0 as number | null, toSelf: 0, toFirst: 0, sinkMass: 0, entropyNats: 0.1, uniformEntropyNats: Math.log(128), meanDistance: 1, span50: 1, span90: 2, span99: 5, span90Max: 4, toPrevOccurrence: null as number | null, induction: null as number | null };
  assert.deepEqual(headLabels({ ...base, toPrev: 0.9 }, 128), ['previous']);
  assert.deepEqual(headLabels({ ...base, entropyNats: 3.9 }, 128), ['broad']);
  assert.deepEqual(headLabels({ ...base, entropyNats: 3.7 }, 128), ['local']);
  assert.deepEqual(headLabels({ ...base, toSep: 0.6, span90: 60 }, 128), ['[SEP]']);
  assert.deepEqual(headLabels({ ...base, span90: 60 }, 128), []);
  // a causal head on the first position is a sink; an encoder's is its [CLS]
  assert.deepEqual(headLabels({ ...base, toNext: null, toFirst: 0.8, span90: 60 }, 128), ['sink']);
  assert.deepEqual(headLabels({ ...base, toNext: null, toFirst: 0.8, toCls: 0.8, span90: 60 }, 128), ['[CLS]']);
  // induction by the majority of its repeated tokens' attention; a text with none repeated has no score
  assert.deepEqual(headLabels({ ...base, toNext: null, induction: 0.9, toPrevOccurrence: 0, span90: 60 }, 128), ['induction']);
  assert.deepEqual(headLabels({ ...base, toNext: null, induction: 0.4, toPrevOccurrence: 0.6, span90: 60 }, 128), []);
});

test('head distance: Jensen-Shannon with 0.999 A + 0.001 / n, summed over queries; MDS is deterministic', () => {
  const I = [
    [1, 0],
    [0, 1],
  ];
  const U = [
    [0.5, 0.5],
    [0.5, 0.5],
  ];
  const { jsd } = headDistances([layer([I, I, U])], false);
  close(jsd[0 * 3 + 1], 0);
  const p = [0.999 + 0.0005, 0.0005];
  const m = [(p[0] + 0.5) / 2, (p[1] + 0.5) / 2];
  const H = (q: number[]): number => -q.reduce((s, x) => s + x * Math.log(x), 0);
  close(jsd[0 * 3 + 2], 2 * (H(m) - (H(p) + H([0.5, 0.5])) / 2));
  close(jsd[2 * 3 + 0], jsd[0 * 3 + 2]);
  const a = classicalMds(jsd, 3);
  assert.deepEqual(classicalMds(jsd, 3), a);
  close(Math.hypot(a[0][0] - a[1][0], a[0][1] - a[1][1]), 0, 1e-9);
  close(Math.hypot(a[0][0] - a[2][0], a[0][1] - a[2][1]), jsd[2], 1e-9);
});

test('head distances over budget are left out, with their cost, and the panel summary says how long they would take', () => {
  const U = [
    [0.5, 0.5],
    [0.5, 0.5],
  ];
  const capture: AttentionCapture = { tokens: ['a', 'b'], inputIds: [1, 2], offsets: [[0, 1], [2, 3]], layerIndices: [0], layers: [layer([U, U, U])], executionProvider: 'cpu', warnings: [] };
  assert.equal(headDistanceWork(3, 2, 2, false), 3 * 4);
  const seconds = (12 * HEAD_DISTANCE_NS_PER_WORK) / 1e9;
  const skipped = analyzeCapture(capture, { headDistanceSeconds: seconds * 0.99 });
  assert.equal(skipped.headDistance, undefined);
  assert.deepEqual(skipped.headDistanceSkipped, { work: 12, seconds });
  assert.deepEqual(captureSummary('m', capture, skipped).analysis?.headDistanceSkipped, { seconds });
  // on four threads a quarter of the time: within the same allowance
  const within = analyzeCapture(capture, { headDistanceSeconds: seconds * 0.99, threads: 4 });
  assert.deepEqual(within.headDistance, headMap(capture.layers, false));
  assert.equal(within.headDistanceSkipped, undefined);
  assert.deepEqual(analyzeCapture(capture, { headDistanceSeconds: seconds * 0.2, threads: 4 }).headDistanceSkipped, { work: 12, seconds: seconds / 4 });
  assert.deepEqual(corpusAnalysis([skipped, within]).headDistanceSkipped, { work: 12, seconds }, 'a corpus with a text left out has no map');
});

test('word level: attention to a word sums its pieces, from a word averages them', () => {
  const tokens = ['[CLS]', 'token', '##ization', 'works', '[SEP]'];
  const offsets: [number, number][] = [[0, 0], [0, 5], [5, 12], [13, 18], [18, 18]];
  const word = wordIndices(tokens, offsets, (i) => i === 0 || i === 4);
  assert.deepEqual(Array.from(word), [0, 1, 1, 2, 3]);
  const rows = Array.from({ length: 5 }, (_, i) => Array.from({ length: 5 }, (_, j) => (j === (i + 1) % 5 ? 1 : 0)));
  const w = wordLevelLayer(layer([rows]), word);
  assert.equal(w.queries, 4);
  // from "tokenization" (pieces 1, 2 -> keys 2 and 3): half to itself (word 1), half to "works"
  assert.deepEqual(Array.from(w.probs.subarray(4, 8)), [0, 0.5, 0.5, 0]);
  // to "tokenization" from [CLS]: the sum over its pieces
  assert.deepEqual(Array.from(w.probs.subarray(0, 4)), [0, 1, 0, 0]);
});

test('a corpus averages statistics over texts and sums head distances', () => {
  const capture = (rows: number[][][]): AttentionCapture => ({
    tokens: ['a', 'b'],
    inputIds: [1, 2],
    offsets: [[0, 1], [2, 3]],
    layerIndices: [0],
    executionProvider: 'cpu',
    warnings: [],
    layers: [layer(rows)],
  });
  const one = analyzeCapture(capture([[[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]]]));
  const two = analyzeCapture(capture([[[0, 1], [1, 0]], [[0.5, 0.5], [0.5, 0.5]]]));
  const c = corpusAnalysis([one, two]);
  assert.equal(c.texts, 2);
  close(c.heads[0].toSelf!, 0.5);
  close(c.relative.profile[0][1], (one.relative.profile[0][1] + two.relative.profile[0][1]) / 2);
  close(c.headDistance!.jsd[0][1], one.headDistance!.jsd[0][1] + two.headDistance!.jsd[0][1]);
});

test('the table logarithm agrees with Math.log to 1e-13 across the range of probabilities and beyond', async () => {
  const { tableLog } = await import('../../src/analysis/tableLog');
  let worst = 0;
  for (let k = 0; k < 200_000; k++) {
    const x = Math.exp(-50 + 55 * ((k * 0.6180339887498949) % 1));
    worst = Math.max(worst, Math.abs(tableLog(x) - Math.log(x)));
  }
  assert.ok(worst < 1e-13, `worst ${worst}`);
  for (const x of [1, 0.5, 1e-300, 5e-324, 1e300, 2 ** -60, 2 ** 4]) close(tableLog(x), Math.log(x), 1e-13);
});

test('the tabulated smoothed-entropy term agrees with -(c a + e) log(c a + e) over the whole range of a', () => {
  const keep = 0.9999;
  const eps = 0.0001 / 384;
  const table = entropyTable(keep, eps);
  const values = Float32Array.from([0, 1e-45, 1e-38, 1e-20, 1e-9, 3e-7, 1e-4, 0.0026, 0.1, 0.3333, 0.5, 0.999, 1, 1.0000001]);
  const bits = new Int32Array(values.buffer);
  for (let i = 0; i < values.length; i++) {
    const a = values[i];
    const c = (bits[i] >>> CELL_SHIFT) * 4;
    const p = keep * a + eps;
    // the bound of the module's comment, (c / 6) a 2^-24, plus rounding
    close(table[c] + a * (table[c + 1] + a * table[c + 2]), -p * Math.log(p), (keep / 6) * a * 2 ** -24 + 1e-15);
  }
  const bad = Float32Array.from([-0.5, Infinity, NaN]);
  for (const b of new Int32Array(bad.buffer)) assert.ok(Number.isNaN(table[(b >>> CELL_SHIFT) * 4]), 'a negative or non-finite weight gives NaN, not a number');
});

test('the WebAssembly row kernel sums as the JavaScript loop does, to the bit, for odd and even rows, and gathers listed keys', () => {
  for (const n of [1, 2, 5, 8, 513]) {
    const table = entropyTable(0.9999, 0.0001 / n);
    const probs = seededNormals(3 * n, `kernel ${n}`).map((x) => Math.exp(x) / n);
    const bits = new Int32Array(probs.buffer);
    const listed = [n - 1, 0, n >> 1];
    const space = rowSpace(table, n, listed.length);
    space.keys.set(listed);
    space.om.fill(0);
    space.pre[0] = 0;
    const om = new Float64Array(2 * n);
    for (let i = 0; i < 3; i++) {
      space.block.set(probs.subarray(i * n, (i + 1) * n));
      // row i's offsets start at base, as a query's do (within the 2n - 1 offsets)
      const base = Math.min(i, n - 1);
      const h = rowKernel().row(space.blockAt, n, space.tableAt, space.omAt + 8 * base, space.preAt);
      // the loop the kernel replaced: two keys a step, the last odd key into the first sum
      let h0 = 0;
      let h1 = 0;
      let cum = 0;
      const pre = [0];
      for (let j = 0; j < n; j += 2) {
        const terms = [j, j + 1].filter((k) => k < n).map((k) => {
          const c = (bits[i * n + k] >>> CELL_SHIFT) * 4;
          const a = probs[i * n + k];
          om[base + k] += a;
          return table[c] + a * (table[c + 1] + a * table[c + 2]);
        });
        h0 += terms[0];
        if (terms.length === 2) {
          h1 += terms[1];
          pre.push(cum + probs[i * n + j]);
          pre.push((cum += probs[i * n + j] + probs[i * n + j + 1]));
        } else pre.push((cum += probs[i * n + j]));
      }
      assert.equal(h, h0 + h1, `entropy of row ${i}, n = ${n}`);
      const gathered = rowKernel().gather(space.blockAt, space.keysAt, listed.length);
      assert.equal(gathered, listed.reduce((sum, k) => sum + probs[i * n + k], 0), `the listed keys' weights, row ${i}, n = ${n}`);
      assert.deepEqual([...space.pre], pre, `prefix of row ${i}, n = ${n}`);
    }
    assert.deepEqual([...space.om], [...om.subarray(0, 2 * n - 1)], `offset mass, n = ${n}`);
  }
});
