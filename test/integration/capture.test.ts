// Capture through ONNX Runtime on real exports: the reference model, ONNX Runtime's test
// models, and the specimen whose heads have known roles.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayerAttention } from '../../src/analysis/attentionCapture';
import { specimenModel, SPECIMEN_ROLES } from '../../src/model/builder/specimenModel';
import { LoadedModel } from '../../src/model/capture';
import { attentionSites } from '../../src/model/attentionTap';
import { onnxModel } from '../../src/model/onnxGraph';
import { ORT_TESTDATA, SPECIMEN, TINY_BERT } from '../helpers/paths';
import { worstRowSumError } from '../helpers/attentionChecks';

process.env.ORT_DISABLE_TELEMETRY = '1';

test('tiny-bert-mlm: tokens, ids and every attention value match the PyTorch reference within 1e-5', async () => {
  const ref = JSON.parse(readFileSync(join(TINY_BERT, 'reference.json'), 'utf8')) as {
    text: string;
    tokens: string[];
    input_ids: number[];
    attentions: Record<string, number[][][]>; // [heads][queries][keys] per layer
  };
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const cap = await m.capture({ text: ref.text, includeQueryKey: true });
  assert.deepEqual(cap.tokens, ref.tokens);
  assert.deepEqual(cap.inputIds, ref.input_ids);
  assert.equal(cap.layers.length, 2);
  let worst = 0;
  cap.layers.forEach((l, li) => {
    const expected = ref.attentions[String(li)];
    assert.equal(l.heads, expected.length);
    expected.forEach((rows, h) => rows.forEach((row, q) => row.forEach((v, k) => (worst = Math.max(worst, Math.abs(l.probs[(h * l.queries + q) * l.keys + k] - v))))));
    assert.equal(l.query?.dims, 16);
    assert.equal(l.key?.positions, ref.tokens.length);
  });
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
});

const unfused = readdirSync(ORT_TESTDATA).filter((f) => f.endsWith('.onnx') && !/_opt|_mha/.test(f));

for (const file of unfused) {
  test(`${file}: every attention Softmax is captured and its rows sum to 1`, async () => {
    const path = join(ORT_TESTDATA, file);
    const softmaxes = onnxModel(readFileSync(path)).nodes.filter((n) => n.opType === 'Softmax').length;
    const m = await LoadedModel.load({ model: path, executionProvider: 'cpu' });
    const n = m.info.sequenceMode === 'fixed' ? 7 : 6;
    const cap = await m.capture({ ids: Array.from({ length: n }, (_, i) => i + 1), includeQueryKey: true });
    assert.equal(cap.layers.length, softmaxes);
    for (const l of cap.layers) {
      assert.equal(l.queries, n);
      assert.equal(l.keys, n);
      assert.ok(worstRowSumError(l) < 1e-5, `${l.name}: rows off by ${worstRowSumError(l)}`);
    }
  });
}

test('gpt2_past: one token per run, the cache carried forward, rows assembled into a causal matrix', async () => {
  const m = await LoadedModel.load({ model: join(ORT_TESTDATA, 'gpt2_past.onnx'), executionProvider: 'cpu' });
  assert.equal(m.info.sequenceMode, 'stepwise');
  const n = 5;
  const cap = await m.capture({ ids: [5, 9, 2, 7, 3] });
  for (const l of cap.layers) {
    for (let h = 0; h < l.heads; h++) {
      for (let q = 0; q < n; q++) {
        let future = 0;
        for (let k = q + 1; k < n; k++) future += l.probs[(h * n + q) * n + k];
        assert.equal(future, 0);
      }
      // the first run has an empty past: its one query attends only to itself
      assert.ok(Math.abs(l.probs[h * n * n] - 1) < 1e-6);
    }
  }
  // With a non-empty past the later rows spread over earlier tokens.
  const l0 = cap.layers[0];
  assert.ok(l0.probs[(0 * n + 4) * n + 0] > 0 && l0.probs[(0 * n + 4) * n + 0] < 1);
});

test('the fixed-length TF export is padded with a mask and padding never shows up as attention', async () => {
  const m = await LoadedModel.load({ model: join(ORT_TESTDATA, 'TFBertForQuestionAnswering.onnx'), executionProvider: 'cpu' });
  assert.equal(m.info.sequenceMode, 'fixed');
  const cap = await m.capture({ ids: [3, 4, 5] });
  for (const l of cap.layers) {
    assert.equal(l.keys, 3);
    assert.ok(worstRowSumError(l) < 1e-5);
  }
});

test('specimen: each hand-set head does its role', async () => {
  const m = await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' });
  const cap = await m.capture({ text: 'The quick brown fox, the lazy dog. It jumps!' });
  const tokens = cap.tokens;
  const n = tokens.length;
  const argmax = (l: LayerAttention, h: number, q: number): number => {
    let best = 0;
    for (let k = 1; k < n; k++) if (l.probs[(h * n + q) * n + k] > l.probs[(h * n + q) * n + best]) best = k;
    return best;
  };
  const mass = (l: LayerAttention, h: number, q: number, keys: (k: number) => boolean): number => {
    let s = 0;
    for (let k = 0; k < n; k++) if (keys(k)) s += l.probs[(h * n + q) * n + k];
    return s;
  };
  SPECIMEN_ROLES.forEach((roles, li) =>
    roles.forEach((role, h) => {
      const l = cap.layers[li];
      for (let q = 1; q < n - 1; q++) {
        const m99 = (keys: (k: number) => boolean): void => assert.ok(mass(l, h, q, keys) > 0.99, `layer ${li} head ${h} (${role}) query ${q}`);
        if (role === 'previous') assert.equal(argmax(l, h, q), q - 1);
        if (role === 'next') assert.equal(argmax(l, h, q), q + 1);
        if (role === 'self') assert.equal(argmax(l, h, q), q);
        if (role === 'cls') m99((k) => tokens[k] === '[CLS]');
        if (role === 'sep') m99((k) => tokens[k] === '[SEP]');
        if (role === 'punctuation') m99((k) => /^[.,!]$/.test(tokens[k]));
        if (role === 'local2') m99((k) => Math.abs(k - q) <= 2);
        if (role === 'strided4') m99((k) => (q - k) % 4 === 0);
        if (role === 'sameToken') m99((k) => tokens[k] === tokens[q]);
        if (role === 'broad') assert.ok(Math.abs(mass(l, h, q, () => true) - 1) < 1e-5 && Math.abs(l.probs[(h * n + q) * n] - 1 / n) < 1e-5);
      }
    }),
  );
});

test('a model with its weights in an external data file loads and captures the same', async () => {
  const s = specimenModel();
  const dir = mkdtempSync(join(tmpdir(), 'external-'));
  const encoded = specimenModel();
  assert.ok(encoded.model.length > 1e6);
  const { encoderGraphWithExternal } = await import('../helpers/externalSpecimen');
  const ext = encoderGraphWithExternal('weights.bin');
  writeFileSync(join(dir, 'model.onnx'), ext.model);
  writeFileSync(join(dir, 'weights.bin'), ext.externalData!);
  writeFileSync(join(dir, 'vocab.txt'), s.vocab);
  writeFileSync(join(dir, 'config.json'), s.config);
  assert.ok(ext.model.length < 100_000, 'the weights are outside the model file');
  const a = await (await LoadedModel.load({ model: dir, executionProvider: 'cpu' })).capture({ text: 'a dog. a fox.' });
  const b = await (await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' })).capture({ text: 'a dog. a fox.' });
  assert.deepEqual(a.layers.map((l) => Array.from(l.probs)), b.layers.map((l) => Array.from(l.probs)));
});

test('a model that already outputs its attention is used as it is, not tapped twice', async () => {
  // An export with output_attentions: the specimen with its softmaxes (two directly, one
  // through Identity) made graph outputs.
  const { specimenGraph } = await import('../../src/model/builder/specimenModel');
  const { rewrittenModelBytes } = await import('../../src/model/onnxGraph');
  const { tapRewrite } = await import('../../src/model/attentionTap');
  const plain = onnxModel(specimenGraph().encode().model);
  const probs = attentionSites(plain).taps.map((t) => t.probsTensor);
  const withOutputs = onnxModel(rewrittenModelBytes(plain, { extraOutputs: probs }));
  const { taps, rewrite } = tapRewrite(withOutputs, attentionSites(withOutputs).taps);
  assert.deepEqual(taps.map((t) => t.probsTensor), probs);
  assert.ok(probs.every((p) => !rewrite.extraOutputs.includes(p)), 'no softmax is added as an output again');
  assert.equal(rewrite.extraOutputs.length, 6, 'queries and keys of 3 layers are still added');

  const dir = mkdtempSync(join(tmpdir(), 'attentions-out-'));
  writeFileSync(join(dir, 'model.onnx'), withOutputs.bytes);
  writeFileSync(join(dir, 'vocab.txt'), readFileSync(join(SPECIMEN, 'vocab.txt')));
  const a = await (await LoadedModel.load({ model: dir, executionProvider: 'cpu' })).capture({ text: 'a dog. a fox.' });
  const b = await (await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' })).capture({ text: 'a dog. a fox.' });
  assert.deepEqual(a.layers.map((l) => Array.from(l.probs)), b.layers.map((l) => Array.from(l.probs)));
});

test('capture of chosen layers only, and a refusal with numbers when it would not fit', async () => {
  const m = await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' });
  const cap = await m.capture({ text: 'one two three', layers: [0, 2] });
  assert.deepEqual(cap.layerIndices, [0, 2]);
  assert.equal(cap.layers.length, 2);
  await assert.rejects(m.capture({ text: 'one two three', layers: [3] }), /layer 3 does not exist: the model has 3 attention layers \(0-2\)/);
  await assert.rejects(m.capture({ text: 'one two three four five', memoryBudgetBytes: 1000 }), /needs .* KiB \(.* KiB of attention probabilities, the copies a run makes of them and a layer's scores\), more than the 1000 B the engine may use/);
});

test("ONNX's standard Attention (opset 23): the softmax comes out of its qk_matmul_output and equals softmax(Q K^T / sqrt d)", async () => {
  const { GraphBuilder } = await import('../../src/model/builder/onnxBuilder');
  const { ONNX_FLOAT, ONNX_INT64 } = await import('../../src/model/onnxGraph');
  const { seededNormals } = await import('../../src/analysis/seededRandom');
  const g = new GraphBuilder('standard attention');
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'sequence']);
  const x = g.node('Gather', [g.floats('emb', [50, 16], seededNormals(800, 'emb')), ids]);
  const heads = (w: string): string =>
    g.node('Transpose', [g.node('Reshape', [g.node('MatMul', [x, g.floats(w, [16, 16], seededNormals(256, w))]), g.ints(`${w}.shape`, [4], [0, 0, 2, 8])])], { perm: [0, 2, 1, 3] });
  g.node('Attention', [heads('wq'), heads('wk'), heads('wv')], {}, 'attention');
  g.output('attention_output', ONNX_FLOAT, ['batch', 2, 'sequence', 8]);
  const path = join(mkdtempSync(join(tmpdir(), 'opset23-')), 'model.onnx');
  writeFileSync(path, g.encode({ opset: 23 }).model);
  const m = await LoadedModel.load({ model: path, executionProvider: 'cpu' });
  const cap = await m.capture({ ids: [1, 2, 3, 4, 5], includeQueryKey: true });
  const l = cap.layers[0];
  assert.equal(l.heads, 2);
  const q = l.query!;
  const k = l.key!;
  let worst = 0;
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < 5; i++) {
      const scores = Array.from({ length: 5 }, (_, j) => {
        let s = 0;
        for (let d = 0; d < 8; d++) s += q.data[(h * 5 + i) * 8 + d] * k.data[(h * 5 + j) * 8 + d];
        return s / Math.sqrt(8);
      });
      const max = Math.max(...scores);
      const z = scores.reduce((a, s) => a + Math.exp(s - max), 0);
      scores.forEach((s, j) => (worst = Math.max(worst, Math.abs(Math.exp(s - max) / z - l.probs[(h * 5 + i) * 5 + j]))));
    }
  }
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
});
