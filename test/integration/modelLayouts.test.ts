// Where a model's files are and what they say: folder layouts of the tools that export models,
// limits read from the graph when there is no config, special tokens in the text, and files
// added beside a model after a first run.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/model/builder/onnxBuilder';
import { TINY_FUSED_SHAPE, fusedAttentionModel } from '../../src/model/builder/fusedAttentionModels';
import { LOOP_SHAPE, loopEncoder } from '../../src/model/builder/loopEncoders';
import { LoadedModel } from '../../src/model/capture';
import { modelFiles } from '../../src/model/modelFiles';
import { ONNX_FLOAT, ONNX_INT64 } from '../../src/model/onnxGraph';
import { worstRowSumError } from '../helpers/attentionChecks';
import { EngineClient } from '../../src/engine/engineClient';
import { ENGINE, SPECIMEN, TINY_BERT } from '../helpers/paths';

process.env.ORT_DISABLE_TELEMETRY = '1';
const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-layouts-'));

function folder(name: string, files: string[]): string {
  const dir = join(scratch, name);
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), f.endsWith('.onnx') ? fusedAttentionModel(TINY_FUSED_SHAPE, 'unfused').model : '{}');
  }
  return dir;
}

test('folder layouts: the full-precision model is chosen and the other files are listed', () => {
  const optimum = folder('optimum', ['config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx']);
  const chosen = modelFiles(optimum);
  assert.equal(chosen.modelPath, join(optimum, 'onnx', 'model.onnx'));
  assert.deepEqual(chosen.variants.map((v) => v.slice(optimum.length + 1)).sort(), ['onnx/model_fp16.onnx', 'onnx/model_q4.onnx', 'onnx/model_quantized.onnx']);
  assert.equal(chosen.configPath, join(optimum, 'config.json'), "the config beside onnx/ is the model's");
  const quantisedOnly = folder('quantised-only', ['onnx/model_quantized.onnx', 'onnx/model_fp16.onnx']);
  assert.equal(modelFiles(quantisedOnly).modelPath, join(quantisedOnly, 'onnx', 'model_fp16.onnx'), 'fp16 before a quantised graph');
  const merged = folder('merged', ['onnx/decoder_model.onnx', 'onnx/decoder_with_past_model.onnx', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_quantized.onnx']);
  assert.equal(modelFiles(merged).modelPath, join(merged, 'onnx', 'decoder_model_merged.onnx'));
  const plain = folder('plain', ['model.onnx', 'model_fp16.onnx']);
  assert.equal(modelFiles(plain).modelPath, join(plain, 'model.onnx'));
  const unrelated = folder('unrelated', ['vision.onnx', 'text.onnx']);
  assert.throws(() => modelFiles(unrelated), /holds several ONNX models \(text.onnx, vision.onnx\): name one of them/);
  const seq2seq = folder('seq2seq', ['config.json', 'onnx/encoder_model.onnx', 'onnx/decoder_model.onnx', 'onnx/decoder_model_merged.onnx']);
  const both = modelFiles(seq2seq);
  assert.equal(relative(seq2seq, both.modelPath), 'onnx/encoder_model.onnx');
  assert.equal(relative(seq2seq, both.decoderPath!), 'onnx/decoder_model_merged.onnx', 'the merged decoder runs the whole target without a cache');
  assert.deepEqual(modelFiles(join(seq2seq, 'onnx/decoder_model.onnx')).decoderPath, join(seq2seq, 'onnx/decoder_model.onnx'), 'a decoder named alone runs with its encoder');
  assert.equal(modelFiles(join(seq2seq, 'onnx/encoder_model.onnx')).decoderPath, join(seq2seq, 'onnx/decoder_model_merged.onnx'), 'an encoder named alone runs with its decoder');
  const encoderOnly = folder('encoder-only', ['onnx/encoder_model.onnx', 'onnx/encoder_model_quantized.onnx']);
  assert.match(modelFiles(encoderOnly).notes.join(' '), /onnx\/encoder_model.onnx is the encoder of an encoder-decoder model whose decoder \(decoder_model.onnx or decoder_model_merged.onnx\) is not in the folder/);
  const genai = folder('genai', ['decoder.onnx']);
  writeFileSync(join(genai, 'genai_config.json'), JSON.stringify({ model: { decoder: { filename: 'missing.onnx' } } }));
  assert.throws(() => modelFiles(genai), /genai_config.json names no decoder file that exists \(model.decoder.filename: "missing.onnx"\)/);
});

test('a model without config.json: the positions come from the graph, and the message says so', async () => {
  const dir = join(scratch, 'no-config');
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.onnx'), fusedAttentionModel(TINY_FUSED_SHAPE, 'unfused').model);
  const m = await LoadedModel.load({ model: dir, executionProvider: 'cpu' });
  assert.equal(m.info.maxPositions, TINY_FUSED_SHAPE.maxPositions);
  await assert.rejects(
    m.capture({ ids: Array.from({ length: 40 }, () => 3) }),
    /the text is 40 tokens long but the model takes at most 32 positions \(the rows of the graph's position embedding\)/,
  );
  await m.release();
});

test('a raw ONNX Runtime error during a run is given its likely cause, with what ONNX Runtime said', async () => {
  // position rows under a name no exporter uses: the limit cannot be known before the run
  const g = new GraphBuilder('hidden limit');
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'sequence']);
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1], [1]), g.ints('two', [1], [2])]);
  const x = g.node('Add', [
    g.node('Gather', [g.floats('emb', [20, 4], new Float32Array(80).map((_, i) => Math.sin(i))), ids]),
    g.node('Slice', [g.floats('table', [8, 4], new Float32Array(32).fill(0.1)), g.ints('zero', [1], [0]), seqLen, g.ints('axis', [1], [0])]),
  ]);
  g.node('Softmax', [g.node('MatMul', [x, g.node('Transpose', [x], { perm: [0, 2, 1] })])], { axis: -1 }, 'scores');
  g.output('scores_output', ONNX_FLOAT, ['batch', 'sequence', 'sequence']);
  const path = join(scratch, 'hidden-limit.onnx');
  writeFileSync(path, g.encode().model);
  const m = await LoadedModel.load({ model: path, executionProvider: 'cpu' });
  assert.equal(m.info.maxPositions, null);
  await assert.rejects(
    m.capture({ ids: Array.from({ length: 12 }, () => 3) }),
    /could not run hidden-limit.onnx: the input's length \(12 positions\) does not fit the graph: it is likely longer than the model was built for \(ONNX Runtime said: .+\)/,
  );
  await m.release();
});

test('[MASK] written in the text is one token, and its row is captured', async () => {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const cap = await m.capture({ text: 'the capital of france is [MASK].' });
  assert.deepEqual(cap.tokens, ['[CLS]', 'the', 'capital', 'of', 'france', 'is', '[MASK]', '.', '[SEP]']);
  assert.equal(cap.inputIds[6], 103);
  await m.release();
});

test('a tokenizer added beside a model after a first run is used on the next', async () => {
  const dir = join(scratch, 'tokenizer-later');
  mkdirSync(dir);
  copyFileSync(join(SPECIMEN, 'model.onnx'), join(dir, 'model.onnx'));
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000 });
  const load = { model: dir, executionProvider: 'cpu' as const };
  try {
    await assert.rejects(engine.capture(load, { text: 'the fox' }), /no tokenizer beside it/);
    copyFileSync(join(SPECIMEN, 'vocab.txt'), join(dir, 'vocab.txt'));
    const cap = await engine.capture(load, { text: 'the fox' });
    assert.deepEqual(cap.tokens.slice(1, -1), ['the', 'fox']);
  } finally {
    engine.dispose();
  }
});

test("the decoder of an encoder-decoder model without its encoder is refused: random encoder states would not be the model's cross-attention", async () => {
  const g = new GraphBuilder('cross attention');
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'decoder_sequence']);
  const states = g.input('encoder_hidden_states', ONNX_FLOAT, ['batch', 'encoder_sequence', 4]);
  const q = g.node('Gather', [g.floats('emb', [20, 4], new Float32Array(80).map((_, i) => Math.cos(i))), ids]);
  g.node('Softmax', [g.node('MatMul', [q, g.node('Transpose', [states], { perm: [0, 2, 1] })])], { axis: -1 }, 'cross');
  g.output('cross_output', ONNX_FLOAT, ['batch', 'decoder_sequence', 'encoder_sequence']);
  const path = join(scratch, 'decoder_model.onnx');
  writeFileSync(path, g.encode().model);
  await assert.rejects(
    LoadedModel.load({ model: path, executionProvider: 'cpu' }),
    /decoder_model.onnx is the decoder of an encoder-decoder model \(its input encoder_hidden_states takes the encoder's output\), and no encoder_model.onnx of its precision is beside it/,
  );
});

test('a model whose only text input is inputs_embeds is refused with that reason', async () => {
  const g = new GraphBuilder('embeddings outside');
  const x = g.input('inputs_embeds', ONNX_FLOAT, ['batch', 'sequence', 4]);
  g.node('Softmax', [g.node('MatMul', [x, g.node('Transpose', [x], { perm: [0, 2, 1] })])], { axis: -1 }, 'scores');
  g.output('scores_output', ONNX_FLOAT, ['batch', 'sequence', 'sequence']);
  const path = join(scratch, 'embeds.onnx');
  writeFileSync(path, g.encode().model);
  await assert.rejects(LoadedModel.load({ model: path, executionProvider: 'cpu' }), /the model's only text input is inputs_embeds: its token embeddings are computed outside the graph/);
});

test('a model released while it captures keeps its session until the capture ends', async () => {
  const m = await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' });
  const running = m.capture({ text: 'the quick brown fox jumps over the lazy dog' });
  await m.release();
  assert.equal((await running).layers.length, 3);
  await assert.rejects(m.capture({ text: 'the fox' }), /the session of model.onnx was released/);
});

test('attention in the body of a Loop (a shared layer) or a Scan (stacked layers): each iteration is a layer, equal to the unrolled twin', async () => {
  for (const [layout, twin, node] of [['loop', 'unrolled-loop', 'albert::loop'], ['scan', 'unrolled-scan', 'jax::scan']] as const) {
    writeFileSync(join(scratch, `${layout}.onnx`), loopEncoder(layout).model);
    writeFileSync(join(scratch, `${twin}.onnx`), loopEncoder(twin).model);
    const m = await LoadedModel.load({ model: join(scratch, `${layout}.onnx`), executionProvider: 'cpu' });
    const t = await LoadedModel.load({ model: join(scratch, `${twin}.onnx`), executionProvider: 'cpu' });
    assert.equal(m.info.layers, LOOP_SHAPE.layers);
    assert.deepEqual(m.info.attention.map((a) => [a.inLoop, a.iteration, a.heads]), [0, 1, 2].map((i) => [node, i, LOOP_SHAPE.heads]));
    assert.match(m.info.layerNames[2], /\(iteration 2\)$/);
    const ids = [1, 4, 7, 9, 2, 11];
    const [a, b] = [await m.capture({ ids, includeQueryKey: true }), await t.capture({ ids, includeQueryKey: true })];
    a.layers.forEach((l, i) => {
      assert.equal(l.queries, ids.length);
      assert.ok(worstRowSumError(l) < 1e-5);
      let worst = 0;
      for (let k = 0; k < l.probs.length; k++) worst = Math.max(worst, Math.abs(l.probs[k] - b.layers[i].probs[k]));
      for (let k = 0; k < l.query!.data.length; k++) worst = Math.max(worst, Math.abs(l.query!.data[k] - b.layers[i].query!.data[k]));
      assert.ok(worst <= 1e-6, `${layout} iteration ${i}: ${worst}`);
    });
    // iterations differ from each other: the layer's input changes
    assert.notDeepEqual(Array.from(a.layers[0].probs), Array.from(a.layers[1].probs));
    await Promise.all([m.release(), t.release()]);
  }
  // a loop that runs once per token has as many layers as the first run had tokens, and says so when a text differs
  writeFileSync(join(scratch, 'per-token.onnx'), loopEncoder('loop-per-token').model);
  const perToken = await LoadedModel.load({ model: join(scratch, 'per-token.onnx'), executionProvider: 'cpu' });
  assert.equal(perToken.info.layers, 4);
  await assert.rejects(perToken.capture({ ids: [1, 2, 3, 4, 5, 6] }), /the albert::loop node in per-token.onnx ran 6 times on this input, not 4 as on the first run/);
  assert.equal((await perToken.capture({ ids: [3, 1, 4, 1] })).layers.length, 4);
});
