import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/model/builder/onnxBuilder';
import { attentionSites } from '../../src/model/attentionTap';
import { ModelFormatError, ONNX_FLOAT, onnxModel, rewrittenModelBytes } from '../../src/model/onnxGraph';
import { ORT_TESTDATA, TINY_BERT } from '../helpers/paths';

test('reads the structure of a real export without decoding its weights', () => {
  const m = onnxModel(readFileSync(join(TINY_BERT, 'model.onnx')));
  assert.equal(m.opsets.get(''), 14);
  assert.deepEqual(m.inputs.map((i) => i.name), ['input_ids', 'attention_mask', 'token_type_ids']);
  assert.deepEqual(m.inputs[0].dims, ['batch', 'sequence']);
  assert.ok([...m.initializers.values()].some((i) => i.dims.join('x') === '30522x64'), 'the word embedding table is read with its dims');
  assert.equal(m.nodes.filter((n) => n.opType === 'Softmax').length, 2);
});

test('adds graph outputs and keeps everything else byte for byte', () => {
  const bytes = readFileSync(join(ORT_TESTDATA, 'bert_toy_optimized.onnx'));
  const m = onnxModel(bytes);
  const tapped = onnxModel(rewrittenModelBytes(m, { extraOutputs: ['182', '298'] }));
  assert.deepEqual(tapped.outputs.map((o) => o.name), [...m.outputs.map((o) => o.name), '182', '298']);
  assert.equal(tapped.nodes.length, m.nodes.length);
  assert.equal(tapped.initializers.size, m.initializers.size);
});

test('damaged files get a message that says so', () => {
  assert.throws(() => onnxModel(new Uint8Array(0), 'x.onnx'), (e: Error) => e instanceof ModelFormatError && /empty \(0 bytes\)/.test(e.message));
  const random = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
  assert.throws(() => onnxModel(random, 'r.onnx'), (e: Error) => e instanceof ModelFormatError && /not (a readable )?(an )?ONNX model/.test(e.message));
  const whole = readFileSync(join(TINY_BERT, 'model.onnx'));
  assert.throws(() => onnxModel(whole.subarray(0, whole.length >> 1), 'half.onnx'), (e: Error) => e instanceof ModelFormatError && /truncated|runs past/.test(e.message));
});

test('finds attention through scaling and masks, and in fused ops', () => {
  const sites = (f: string) => attentionSites(onnxModel(readFileSync(join(ORT_TESTDATA, f))));
  assert.equal(sites('gpt2_past.onnx').taps.length, 12);
  assert.equal(sites('TFBertForQuestionAnswering.onnx').taps.length, 24);
  const fused = sites('attention_mha.onnx');
  assert.deepEqual(fused.taps.map((t) => [t.site.op, t.softmaxNode]), [['com.microsoft.MultiHeadAttention', 'Attention_0']]);
  assert.equal(fused.fused.length, 0);
});

test('a softmax over a MatMul with a weight is a classifier, not attention', () => {
  const g = new GraphBuilder('classifier');
  const x = g.input('x', ONNX_FLOAT, ['batch', 4]);
  g.node('Softmax', [g.node('MatMul', [x, g.floats('w', [4, 3], new Float32Array(12))])], { axis: -1 }, 'probs');
  g.output('probs_output', ONNX_FLOAT, ['batch', 3]);
  assert.equal(attentionSites(onnxModel(g.encode().model)).taps.length, 0);
});

test('an Identity chain that loops back onto the attention tensor is refused before any search follows it', () => {
  const g = new GraphBuilder('identity loop');
  const x = g.input('x', ONNX_FLOAT, ['batch', 4, 4]);
  const probs = g.node('Softmax', [g.node('MatMul', [x, g.node('Transpose', [x], { perm: [0, 2, 1] })])], { axis: -1 }, 'probs');
  // probs -> a -> b -> probs: a broken graph ONNX Runtime would refuse, and the alias search would follow round
  g.nodeOutputs('Identity', [probs], {}, 'a', ['alias_a']);
  g.nodeOutputs('Identity', ['alias_a'], {}, 'b', [probs]);
  g.output(g.node('Relu', [x]), ONNX_FLOAT, ['batch', 4, 4]);
  const model = onnxModel(g.encode().model);
  assert.throws(() => attentionSites(model), (e: Error) => e instanceof ModelFormatError && /its graph is not acyclic: node '(a|b)' reads its own output through a cycle of nodes/.test(e.message));
});
