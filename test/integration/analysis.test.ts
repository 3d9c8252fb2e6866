// Head analysis on real captures: the specimen's known roles, tiny-bert-mlm against a plain
// loop-by-loop implementation, a decoder, and corpus mode through the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { headDistances } from '../../src/analysis/headDistance';
import { LoadedModel } from '../../src/model/capture';
import { CLI, GENAI_GQA, ORT_TESTDATA, SPECIMEN, TINY_BERT } from '../helpers/paths';
import { assertSameDistances, referenceDistances } from '../helpers/referenceDistances';

process.env.ORT_DISABLE_TELEMETRY = '1';

test('specimen: every hand-built head gets its label, and the statistic its construction implies', async () => {
  const m = await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' });
  const text = 'The quick brown fox, the lazy dog. It jumps over the lazy fox, then the dog jumps.';
  const cap = await m.capture({ text });
  const a = analyzeCapture(cap);
  const n = cap.tokens.length;
  const head = (l: number, h: number) => a.heads.find((s) => s.layer === l && s.head === h)!;
  const prev = head(0, 0);
  assert.deepEqual(prev.labels, ['previous']);
  assert.ok(prev.toPrev! > 0.9 && prev.span90 === 1 && prev.span90Max === 1);
  assert.deepEqual(head(0, 1).labels, ['next']);
  assert.ok(head(0, 1).toNext! > 0.9);
  assert.deepEqual(head(0, 2).labels, ['self']);
  assert.ok(head(0, 2).toSelf! > 0.99 && head(0, 2).span99 === 0);
  for (const broad of [head(0, 3), head(2, 3)]) {
    assert.deepEqual(broad.labels, ['broad']);
    assert.ok(Math.abs(broad.entropyNats - Math.log(n)) < 1e-3);
  }
  assert.deepEqual(head(1, 0).labels, ['[CLS]']);
  assert.ok(head(1, 0).toCls > 0.99);
  assert.deepEqual(head(1, 1).labels, ['[SEP]']);
  assert.ok(head(1, 1).toSep > 0.99);
  const local = head(1, 2);
  assert.deepEqual(local.labels, ['local']);
  assert.ok(local.span90! <= 2 && local.span90Max! <= 2);
  assert.deepEqual(head(2, 1).labels, ['punctuation']);
  assert.ok(head(2, 1).toPunct > 0.99);
  assert.deepEqual(head(2, 2).labels, ['previous']);
  // The stride-4 head: its relative profile has mass only at multiples of 4.
  const strided = a.relative.profile[2 * 4 + 0];
  a.relative.offsets.forEach((r, k) => assert.ok(r % 4 === 0 || strided[k] < 1e-6, `offset ${r}`));
  assert.equal(a.causal, false);
  assert.equal(a.headDistance!.embedding.length, 12);
  // Identical roles sit together: the two previous-token heads, the two broad heads.
  assert.ok(a.headDistance!.jsd[0][10] < 1e-3 && a.headDistance!.jsd[3][11] < 1e-3);
});

// A plain implementation of every statistic, loop by loop, straight from the definitions.
function reference(A: (i: number, j: number) => number, n: number, tokens: string[], R: number) {
  const sum = (f: (i: number, j: number) => number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += f(i, j);
    return s;
  };
  const within = (k: number): number => sum((i, j) => (Math.abs(i - j) <= k ? A(i, j) : 0)) / n;
  const span = (c: number): number => {
    for (let k = 0; k < n; k++) if (within(k) >= c - 1e-7) return k;
    return n - 1;
  };
  let spanMax = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < n; j++) if (Math.abs(i - j) <= k) s += A(i, j);
      if (s >= 0.9 - 1e-7) {
        spanMax = Math.max(spanMax, k);
        break;
      }
    }
  }
  let entropy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const p = 0.9999 * A(i, j) + 0.0001 / n;
    entropy -= (p * Math.log(p)) / n;
  }
  const profile: number[] = [];
  for (let r = -R; r <= R; r++) {
    let s = 0;
    let c = 0;
    for (let i = 0; i < n; i++) if (i + r >= 0 && i + r < n) {
      s += A(i, i + r);
      c++;
    }
    profile.push(s / c);
  }
  return {
    toCls: sum((i, j) => (tokens[j] === '[CLS]' ? A(i, j) : 0)) / n,
    toSep: sum((i, j) => (tokens[j] === '[SEP]' ? A(i, j) : 0)) / n,
    toPunct: sum((i, j) => (tokens[j] === '.' || tokens[j] === ',' ? A(i, j) : 0)) / n,
    toPrev: sum((i, j) => (j === i - 1 ? A(i, j) : 0)) / n,
    toNext: sum((i, j) => (j === i + 1 ? A(i, j) : 0)) / n,
    toSelf: sum((i, j) => (j === i ? A(i, j) : 0)) / n,
    entropyNats: entropy,
    uniformEntropyNats: Math.log(n),
    meanDistance: sum((i, j) => Math.abs(i - j) * A(i, j)) / n,
    span50: span(0.5),
    span90: span(0.9),
    span99: span(0.99),
    span90Max: spanMax,
    profile,
  };
}

test('tiny-bert-mlm: every statistic agrees within 1e-6 with the loop-by-loop implementation', async () => {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const cap = await m.capture({ text: 'The quick brown fox jumps over the lazy dog, and the dog sleeps. Tokenization splits words.' });
  const a = analyzeCapture(cap, { maxOffset: 8 });
  const n = cap.tokens.length;
  let k = 0;
  for (const l of cap.layers) {
    for (let h = 0; h < l.heads; h++, k++) {
      const ref = reference((i, j) => l.probs[(h * n + i) * n + j], n, cap.tokens, 8);
      const got = a.heads[k];
      for (const key of ['toCls', 'toSep', 'toPunct', 'toPrev', 'toNext', 'toSelf', 'entropyNats', 'uniformEntropyNats', 'meanDistance', 'span50', 'span90', 'span99', 'span90Max'] as const) {
        assert.ok(Math.abs((got[key] as number) - ref[key]) <= 1e-6, `layer ${got.layer} head ${h} ${key}: ${got[key]} vs ${ref[key]}`);
      }
      ref.profile.forEach((v, r) => assert.ok(Math.abs(a.relative.profile[k][r] - v) <= 1e-6, `profile offset ${r - 8}`));
    }
  }
  // Head distances: Jensen-Shannon, summed over queries, row by row.
  const heads = cap.layers.flatMap((l) => Array.from({ length: l.heads }, (_, h) => (i: number, j: number) => 0.999 * l.probs[(h * n + i) * n + j] + 0.001 / n));
  for (const [x, y] of [[0, 1], [0, 5], [3, 7]]) {
    let js = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const p = heads[x](i, j);
      const q = heads[y](i, j);
      const mid = (p + q) / 2;
      js += 0.5 * (p * Math.log(p / mid) + q * Math.log(q / mid));
    }
    assert.ok(Math.abs(a.headDistance!.jsd[x][y] - js) <= 1e-6, `jsd ${x},${y}: ${a.headDistance!.jsd[x][y]} vs ${js}`);
  }
});

test('a decoder: causal attention is found from the data and next-token is not counted', async () => {
  const m = await LoadedModel.load({ model: join(ORT_TESTDATA, 'gpt2_past.onnx'), executionProvider: 'cpu' });
  const a = analyzeCapture(await m.capture({ ids: [5, 9, 2, 7, 3, 8] }));
  assert.equal(a.causal, true);
  assert.ok(a.heads.every((h) => h.toNext === null));
  assert.ok(Math.abs(a.heads[0].uniformEntropyNats - [1, 2, 3, 4, 5, 6].reduce((s, k) => s + Math.log(k), 0) / 6) < 1e-9);
});

test("head distances of real attention (tiny-bert-mlm; the genai export's causal GQA heads): the WebAssembly kernel gives the JavaScript loop's numbers within 1e-9", async (t) => {
  const bert = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const text = Array.from({ length: 6 }, () => 'The quick brown fox jumps over the lazy dog, and the dog sleeps.').join(' ');
  const genai = await LoadedModel.load({ model: GENAI_GQA, executionProvider: 'cpu' });
  for (const [name, cap] of [
    ['tiny-bert-mlm', await bert.capture({ text })],
    ['genai-qwen35-gqa', await genai.capture({ ids: Array.from({ length: 100 }, (_, i) => 5 + ((i * 37) % 900)) })],
  ] as const) {
    const causal = analyzeCapture(cap, { headDistance: false }).causal;
    const said = assertSameDistances(headDistances(cap.layers, causal).jsd, referenceDistances(cap.layers, causal), name);
    t.diagnostic(`${name}: ${cap.layers.reduce((s, l) => s + l.heads, 0)} heads at n = ${cap.tokens.length}${causal ? ', causal' : ''}; ${said}`);
  }
});

test('corpus mode: 120 texts on the specimen and on tiny-bert-mlm, averaged, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corpus-'));
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'model', 'attention', 'head', 'layer'];
  const texts = Array.from({ length: 120 }, (_, t) => Array.from({ length: 5 + (t % 11) }, (_, w) => words[(t * 7 + w * 3) % words.length]).join(' ') + (t % 2 ? '.' : ', then it stops.'));
  const file = join(dir, 'corpus.txt');
  writeFileSync(file, texts.join('\n') + '\n\n');
  for (const model of ['demo', TINY_BERT]) {
    const out = join(dir, 'out.json');
    const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', model, '--corpus', file, '--json', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /text 120\/120/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(j.texts, 120);
    assert.equal(j.heads.length, model === 'demo' ? 12 : 8);
    assert.equal(j.headDistance.embedding.length, j.heads.length);
    // rollouts of texts of different lengths do not average: the first text's, said so
    assert.equal(j.rollout.stacks[0].rollout.length, j.rollout.stacks[0].rollout[0].length);
    assert.ok(j.rollout.notes.some((n: string) => /of the first text only/.test(n)));
    if (model === 'demo') {
      assert.deepEqual(j.heads[0].labels, ['previous']);
      assert.deepEqual(j.heads[3].labels, ['broad']);
    }
  }
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n\n');
  const bad = spawnSync(process.execPath, [CLI, 'analyze', '--model', 'demo', '--corpus', empty], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /holds no text/);
});

test('the efficient-attention lab on the specimen: local and previous-token heads survive their patterns', async () => {
  const { efficientAttentionLab } = await import('../../src/analysis/efficientAttentionLab');
  const m = await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' });
  const cap = await m.capture({ text: 'The quick brown fox, the lazy dog. It jumps over the lazy fox, then the dog jumps.', includeQueryKey: true });
  const recall = (lab: ReturnType<typeof efficientAttentionLab>, layer: number, head: number, method: string) =>
    lab.heads.find((h) => h.layer === layer && h.head === head)!.methods.find((x) => x.method === method)!.recall;
  const w2 = efficientAttentionLab(cap, { window: 2, head: { layer: 1, head: 2 } });
  assert.ok(recall(w2, 1, 2, 'local') > 0.999, 'local ±2 head under a window of 2');
  assert.ok(recall(w2, 1, 2, 'adaptiveSpan') > 0.999, 'local ±2 head under adaptive span');
  for (const stride of [2, 3, 5]) assert.ok(recall(efficientAttentionLab(cap, { stride }), 0, 0, 'strided') > 0.999, `previous-token head under strided l = ${stride}`);
  // every method on every head, with its memory
  assert.equal(w2.heads.length, 12);
  for (const h of w2.heads) {
    assert.deepEqual(h.methods.map((x) => x.method), ['local', 'strided', 'fixed', 'adaptiveSpan', 'lsh', 'lshSeparate', 'routing']);
    for (const x of h.methods) {
      assert.ok(x.recall >= 0 && x.recall <= 1 + 1e-6, `${x.method} recall ${x.recall}`);
      assert.equal(x.bytes, x.scoresComputed * 4);
    }
  }
  // buckets of the chosen head, every round, every token
  const b = w2.buckets!;
  assert.equal(b.lsh.length, 4);
  assert.equal(b.lsh[0].length, cap.tokens.length);
  assert.equal(b.lshBucketSizes[0].reduce((s, x) => s + x, 0), cap.tokens.length);
  assert.equal(b.routing.length, cap.tokens.length);
  assert.deepEqual(efficientAttentionLab(cap, { window: 2, head: { layer: 1, head: 2 } }).buckets, b, 'the same seed gives the same buckets');
  // at an equal budget every method reports its mean recall over heads
  for (const name of ['local', 'strided', 'fixed', 'adaptiveSpan', 'lsh', 'routing']) assert.ok(w2.equalBudget.methods[name].meanRecall > 0, name);
});

test('Transformer-XL recurrence on gpt2_past with real past inputs; memory 0 gives share 0; rate 1 gives KL 0', async () => {
  const { recurrenceHeads, softmaxKlNats } = await import('../../src/analysis/recurrence');
  const m = await LoadedModel.load({ model: join(ORT_TESTDATA, 'gpt2_past.onnx'), executionProvider: 'cpu' });
  const ids = Array.from({ length: 16 }, (_, i) => ((i * 7) % 9) + 1);
  const none = recurrenceHeads((await m.recurrence({ ids, segment: 4, memory: 0 })).steps, m.info.layerNames.map((_, i) => i));
  assert.equal(none.length, 24);
  assert.ok(none.every((h) => h.memoryShare === 0 && h.effectiveContext <= 3));
  const run = await m.recurrence({ ids, segment: 4, memory: 4 });
  const withMemory = recurrenceHeads(run.steps, run.layerIndices);
  assert.ok(withMemory.every((h) => h.memoryShare > 0 && h.memoryShare < 1), 'every head puts some attention on the memory');
  // the cache really goes forward: late queries see 4 memory positions and their segment so far
  assert.equal(run.steps[15].keyPositions.length, 8);
  assert.deepEqual(Array.from(run.steps[15].keyIsMemory), [1, 1, 1, 1, 0, 0, 0, 0]);
  const uncompressed = await m.recurrence({ ids, segment: 4, memory: 4 });
  const rate1 = await m.recurrence({ ids, segment: 4, memory: 2, compression: { rate: 1, slots: 2 } });
  assert.ok(softmaxKlNats(uncompressed.finalOutput, rate1.finalOutput) <= 1e-6);
  const rate2 = await m.recurrence({ ids, segment: 4, memory: 2, compression: { rate: 2, slots: 1 } });
  assert.ok(softmaxKlNats(uncompressed.finalOutput, rate2.finalOutput) > 0, 'pooling two positions into one changes the output');
  await assert.rejects(
    (await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' })).recurrence({ text: 'a b', segment: 2, memory: 1 }),
    /segment recurrence needs a decoder exported with past key\/value inputs/,
  );
});

/** Rollout straight from its definition: each layer's heads averaged, 0.5 A + 0.5 I, rows renormalised, multiplied bottom first. */
function referenceRollout(layers: { heads: number; queries: number; probs: Float32Array }[]): number[][] {
  const n = layers[0].queries;
  let rolled: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (const l of layers) {
    const mixed = Array.from({ length: n }, (_, i) => {
      const row = Array.from({ length: n }, (_, j) => {
        let mean = 0;
        for (let h = 0; h < l.heads; h++) mean += l.probs[(h * n + i) * n + j] / l.heads;
        return 0.5 * mean + (i === j ? 0.5 : 0);
      });
      const sum = row.reduce((a, b) => a + b, 0);
      return row.map((v) => v / sum);
    });
    rolled = mixed.map((row) => Array.from({ length: n }, (_, j) => row.reduce((s, v, k) => s + v * rolled[k][j], 0)));
  }
  return rolled;
}

test('attention rollout and flow: the specimen against the product written out, rows summing to 1; a decoder\'s stay causal', async () => {
  const m = await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' });
  const cap = await m.capture({ text: 'The quick brown fox, the lazy dog. It jumps over the lazy fox, then the dog jumps.' });
  const { stacks, notes } = analyzeCapture(cap).rollout!;
  assert.equal(stacks.length, 1);
  assert.deepEqual(stacks[0].layers, [0, 1, 2]);
  const ref = referenceRollout(cap.layers);
  stacks[0].rollout.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - ref[i][j]) <= 1e-9, `rollout[${i}][${j}] ${v} vs ${ref[i][j]}`)));
  for (const rows of [stacks[0].rollout, stacks[0].flow!]) {
    assert.equal(rows.length, cap.tokens.length);
    for (const row of rows) {
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) <= 1e-9);
      assert.ok(row.every((v) => v >= 0));
    }
  }
  assert.ok(notes.some((x) => /over the captured layers 0, 1, 2/.test(x)));
  // captured layers only: the product of layers 1 and 2
  const partial = analyzeCapture(await m.capture({ text: 'the lazy dog.', layers: [1, 2] })).rollout!;
  assert.deepEqual(partial.stacks[0].layers, [1, 2]);
  assert.ok(partial.notes.some((x) => /over the captured layers 1, 2: a layer not captured is not in the product/.test(x)));
  // a decoder: nothing flows from a later input
  const gpt2 = await LoadedModel.load({ model: join(ORT_TESTDATA, 'gpt2_past.onnx'), executionProvider: 'cpu' });
  const dec = analyzeCapture(await gpt2.capture({ ids: [5, 9, 2, 7, 3, 8] })).rollout!.stacks[0];
  for (const rows of [dec.rollout, dec.flow!]) {
    rows.forEach((row, i) => {
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) <= 1e-9);
      row.forEach((v, j) => assert.ok(j <= i || v === 0, `[${i}][${j}] = ${v} above the diagonal`));
    });
  }
});
