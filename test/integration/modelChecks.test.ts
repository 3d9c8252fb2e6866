// Graphs and inputs checked before any allocation: a cycle, inputs whose declared shape cannot be
// fed, a fixed-length model judged by its padded length; and external weights read in place,
// never copied into the model's folder.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/model/builder/onnxBuilder';
import { attentionSites, tapRewrite } from '../../src/model/attentionTap';
import { LoadedModel } from '../../src/model/capture';
import { nodeOnCycle } from '../../src/model/graphCycles';
import { CPU_RUN } from '../../src/model/executionProviders';
import { modelFiles } from '../../src/model/modelFiles';
import { ONNX_FLOAT, ONNX_INT64, onnxModel } from '../../src/model/onnxGraph';
import { intTensor } from '../../src/model/ortSession';
import { tappedSession } from '../../src/model/tappedSession';
import { encoderGraphWithExternal } from '../helpers/externalSpecimen';
import { SPECIMEN } from '../helpers/paths';
import { refuses } from '../helpers/cliRefusal';

const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-checks-'));

/** One head of softmax(X X^T) over embedded ids, with input_ids declared as `ids` (no shape when undefined). */
function oneHead(name: string, ids: (number | string)[] | undefined, opts: { cycle?: boolean; mask?: boolean } = {}): string {
  const g = new GraphBuilder(name);
  const x = g.node('Gather', [g.floats('emb', [10, 4], new Float32Array(40).map((_, i) => Math.sin(i))), g.input('input_ids', ONNX_INT64, ids)]);
  let scores = g.node('MatMul', [x, g.node('Transpose', [x], { perm: [0, 2, 1] })]);
  if (opts.mask) {
    const mask = g.node('Cast', [g.input('attention_mask', ONNX_INT64, ids)], { to: ONNX_FLOAT });
    scores = g.node('Add', [scores, g.node('Unsqueeze', [mask, g.ints('axis1', [1], [1])])]);
  }
  // the probabilities, through two Identity nodes, added back into the scores they come from
  if (opts.cycle) scores = g.node('Add', [scores, 'looped'], {}, 'scores_plus_probs');
  const probs = g.node('Softmax', [scores], { axis: -1 }, 'probs');
  if (opts.cycle) g.nodeOutputs('Identity', [g.node('Identity', [probs], {}, 'alias')], {}, 'alias_again', ['looped']);
  g.output('probs_output', ONNX_FLOAT, ['batch', 'sequence', 'sequence']);
  const path = join(scratch, `${name}.onnx`);
  writeFileSync(path, g.encode().model);
  return path;
}

test('a node on a cycle is named, not one after it, and an acyclic graph has none', () => {
  assert.equal(nodeOnCycle(onnxModel(readFileSync(join(SPECIMEN, 'model.onnx')))), undefined);
  const g = new GraphBuilder('a cycle and a node reading it');
  g.nodeOutputs('Relu', ['b'], {}, 'A', ['a']);
  g.nodeOutputs('Relu', ['a'], {}, 'B', ['b']);
  g.nodeOutputs('Relu', ['b'], {}, 'after', ['c']);
  g.nodeOutputs('Relu', ['x'], {}, 'self', ['x']);
  const model = onnxModel(g.encode().model);
  assert.ok(['A', 'B', 'self'].includes(nodeOnCycle(model)!));
  const after = onnxModel(g.encode().model);
  after.nodes.pop();
  assert.ok(['A', 'B'].includes(nodeOnCycle(after)!));
});

test('a graph whose Identity chain loops back onto the attention tensor is refused at once, naming a node on the cycle', () => {
  refuses(['analyze', '--model', oneHead('identity-cycle', ['batch', 'sequence'], { cycle: true }), '--ids', '1,2,3'], /identity-cycle\.onnx: its graph is not acyclic: node '(scores_plus_probs|probs|alias|alias_again)' reads its own output through a cycle of nodes/);
});

test('inputs whose declared shape cannot be fed are refused in one line before any tensor is made', () => {
  const ids = ['--ids', '1,2,3,4'];
  refuses(['analyze', '--model', oneHead('no-shape', undefined), ...ids], /no-shape\.onnx: its input input_ids declares no shape/);
  refuses(['analyze', '--model', oneHead('negative', [1, -5]), ...ids], /negative\.onnx: its input input_ids declares the dimension -5 \(\[1, -5\]\): dimensions are positive/);
  refuses(['analyze', '--model', oneHead('zero', [1, 0]), ...ids], /zero\.onnx: its input input_ids declares the dimension 0/);
  refuses(['analyze', '--model', oneHead('huge', [1, 2 ** 40]), ...ids], /huge\.onnx: its input input_ids declares the dimension 1099511627776 .*more than the 16777216 positions any input may have/);
  refuses(['analyze', '--model', oneHead('rank3', ['batch', 'sequence', 4]), ...ids], /input input_ids is declared \[batch, sequence, 4\]: fed as \[1, 4, 4\] \(batch 1\) it holds 16 values, not the 4 of its ids input/);
});

test('a fixed-length model is judged by its padded length, not by the tokens of the text', async () => {
  const m = await LoadedModel.load({ model: oneHead('fixed-2048', [1, 2048], { mask: true }), executionProvider: 'cpu' });
  try {
    // 3 tokens of probabilities would be 36 bytes; the run computes 2048 x 2048 floats (16 MiB), held three times
    await assert.rejects(m.capture({ ids: [1, 2, 3], memoryBudgetBytes: 32 * 2 ** 20 }), /at n = 2048 \(the model's fixed length: the text's 3 tokens are padded to it\) needs 48 MiB \(16 MiB of attention probabilities, .*\), more than the 32 MiB/);
    assert.equal((await m.capture({ ids: [1, 2, 3], memoryBudgetBytes: 64 * 2 ** 20 })).layers[0].queries, 3);
  } finally {
    await m.release();
  }
});

test('external weights beyond the inline limit are read in place: a read-only model folder loads and gets no file', async () => {
  const dir = join(scratch, 'read-only');
  mkdirSync(dir);
  const m = encoderGraphWithExternal('model.onnx.data');
  writeFileSync(join(dir, 'model.onnx'), m.model);
  writeFileSync(join(dir, 'model.onnx.data'), m.externalData!);
  copyFileSync(join(SPECIMEN, 'vocab.txt'), join(dir, 'vocab.txt'));
  const before = readdirSync(dir).sort();
  chmodSync(dir, 0o555);
  try {
    const files = modelFiles(dir);
    const model = onnxModel(readFileSync(files.modelPath));
    const { taps, rewrite } = tapRewrite(model, attentionSites(model).taps);
    // an inline limit of 0 sends every model down the path of those over 1.9 GiB
    const { session } = await tappedSession(files, model, rewrite, CPU_RUN, 0);
    const out = await session.run({ input_ids: intTensor('int64', [2, 5, 3], [1, 3]), attention_mask: intTensor('int64', [1, 1, 1], [1, 3]) });
    const probs = out[taps[0].probsTensor].data as Float32Array;
    assert.ok(Math.abs(probs.subarray(0, 3).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    await session.release();
  } finally {
    chmodSync(dir, 0o755);
  }
  assert.deepEqual(readdirSync(dir).sort(), before);
});
