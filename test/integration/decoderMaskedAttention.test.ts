// com.microsoft DecoderMaskedMultiHeadAttention: a decoder whose self-attention runs one token at a
// time over shared cache buffers, captured step by step against softmax(q k^T / sqrt(d)) over the
// cache computed here in plain JavaScript; the rewrite against ONNX Runtime's own kernel where that
// kernel is right (a nonempty cache), with a mask, biases and a custom scale; its cross-attention
// through the op's qk output; and the cache form ONNX Runtime's CPU kernel does not run, refused.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { MaskedDecoderShape, TINY_MASKED_DECODER, maskedCrossAttention, maskedDecoder, maskedDecoderWeights } from '../../src/model/builder/decoderMaskedDecoder';
import { GraphBuilder } from '../../src/model/builder/onnxBuilder';
import { LoadedModel } from '../../src/model/capture';
import { attentionSites, tapRewrite } from '../../src/model/attentionTap';
import { ONNX_FLOAT, ONNX_INT32, onnxModel, rewrittenModelBytes } from '../../src/model/onnxGraph';
import { checkedRewrite } from '../../src/model/rewriteCheck';
import { futureMass, worstRowSumError } from '../helpers/attentionChecks';

process.env.ORT_DISABLE_TELEMETRY = '1';
const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-dmmha-'));
const IDS = [3, 17, 5, 5, 29, 1, 38, 12, 7];

/** Row-wise softmax of scores[rows][keys], in float64. */
function softmaxRows(scores: number[][]): number[][] {
  return scores.map((row) => {
    const top = Math.max(...row);
    const e = row.map((s) => Math.exp(s - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  });
}

/** x [hidden] times w [hidden, cols] plus b. */
const affine = (x: Float32Array, w: Float32Array, b: Float32Array, cols: number): Float64Array =>
  Float64Array.from({ length: cols }, (_, c) => x.reduce((s, v, r) => s + v * w[r * cols + c], b[c]));

const dot = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number => {
  let s = 0;
  for (let i = 0; i < d; i++) s += a[ao + i] * b[bo + i];
  return s;
};

/** The largest difference of a captured layer [heads][n][n] from causal reference rows per head. */
function worstDifference(probs: Float32Array, n: number, rowsOfHead: (h: number) => number[][], heads: number): number {
  let worst = 0;
  for (let h = 0; h < heads; h++) {
    const rows = rowsOfHead(h);
    for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(probs[(h * n + p) * n + j] - (j <= p ? rows[p][j] : 0)));
  }
  return worst;
}

test('a DecoderMaskedMultiHeadAttention decoder, one token per run over shared cache buffers: every probability within 1e-5 of softmax(q k^T / sqrt(d)) over the cache', async () => {
  const shape: MaskedDecoderShape = TINY_MASKED_DECODER;
  const path = join(scratch, 'masked-decoder.onnx');
  writeFileSync(path, maskedDecoder(shape).model);
  // the load runs a probe, whose second token checks the rewrite against ONNX Runtime's kernel
  const m = await LoadedModel.load({ model: path, executionProvider: 'cpu' });
  assert.equal(m.info.sequenceMode, 'stepwise');
  assert.equal(m.info.maxPositions, shape.maxPositions);
  assert.deepEqual(
    m.info.attention.map((a) => [a.op, a.kind, a.heads, a.unfused]),
    Array.from({ length: shape.layers }, () => ['com.microsoft.DecoderMaskedMultiHeadAttention', 'self', shape.heads, true]),
  );
  const n = IDS.length;
  const cap = await m.capture({ ids: IDS, includeQueryKey: true });
  const { heads, headDim: d } = shape;
  const hidden = heads * d;
  // layer 0 from the weights alone: its queries and keys are projections of the embeddings
  const w = maskedDecoderWeights(shape);
  const { wq, wk, bias } = w.layers[0];
  const embedded = IDS.map((id, p) => Float32Array.from({ length: hidden }, (_, i) => w.tokens[id * hidden + i] + w.positions[p * hidden + i]));
  const q = embedded.map((x) => affine(x, wq, bias.subarray(0, hidden), hidden));
  const k = embedded.map((x) => affine(x, wk, bias.subarray(hidden, 2 * hidden), hidden));
  const first = (h: number): number[][] => softmaxRows(IDS.map((_, p) => Array.from({ length: p + 1 }, (_, j) => dot(q[p], h * d, k[j], h * d, d) / Math.sqrt(d))));
  assert.ok(worstDifference(cap.layers[0].probs, n, first, heads) <= 1e-5, `layer 0 differs by ${worstDifference(cap.layers[0].probs, n, first, heads)}`);
  for (const l of cap.layers) {
    assert.equal(l.queries, n);
    assert.ok(worstRowSumError(l) < 1e-5, `${l.name}: rows off by ${worstRowSumError(l)}`);
    assert.equal(futureMass(l), 0);
    // every layer against its own captured queries and keys: the softmax over the cache
    assert.ok(l.query && l.key, 'queries and keys are captured');
    const { query, key } = l;
    assert.equal(key.positions, n);
    const rows = (h: number): number[][] =>
      softmaxRows(IDS.map((_, p) => Array.from({ length: p + 1 }, (_, j) => dot(query.data, (h * n + p) * d, key.data, (h * n + j) * d, d) / Math.sqrt(d))));
    assert.ok(worstDifference(l.probs, n, rows, heads) <= 1e-5, `${l.name} differs by ${worstDifference(l.probs, n, rows, heads)}`);
  }
  await assert.rejects(m.capture({ ids: Array.from({ length: shape.maxPositions + 1 }, () => 2) }), /17 tokens long but the model takes at most 16 positions/);
  await m.release();
});

test("the rewrite against ONNX Runtime's own kernel on a nonempty cache: a masked key, an attention bias, a bias, a custom scale and filter value, and the op's qk output", async () => {
  const [heads, d, max, past] = [2, 4, 8, 5];
  const hidden = heads * d;
  const g = new GraphBuilder('one DecoderMaskedMultiHeadAttention');
  const vector = (name: string): string => g.input(name, ONNX_FLOAT, [1, 1, hidden]);
  const cacheDims = [1, heads, max, d];
  const inputs = [vector('q'), vector('k'), vector('v'), g.input('mask', ONNX_INT32, [1, 'total']), g.input('attention_bias', ONNX_FLOAT, [1, heads, 1, 'total'])];
  inputs.push(g.input('past_key', ONNX_FLOAT, cacheDims), g.input('past_value', ONNX_FLOAT, cacheDims), g.input('past_sequence_length', ONNX_INT32, [1]), '', '');
  inputs.push(g.floats('bias', [3 * hidden], Float32Array.from({ length: 3 * hidden }, (_, i) => Math.cos(i) / 4)));
  const outputs = ['out', 'present_key', 'present_value', 'qk'];
  g.nodeOutputs('DecoderMaskedMultiHeadAttention', inputs, { num_heads: heads, past_present_share_buffer: 1, output_qk: 1, scale: { float: 0.3 }, mask_filter_value: { float: -5000 } }, 'dmmha', outputs, 'com.microsoft');
  g.output('out', ONNX_FLOAT, [1, 1, hidden]);
  g.output('present_key', ONNX_FLOAT, cacheDims);
  g.output('present_value', ONNX_FLOAT, cacheDims);
  g.output('qk', ONNX_FLOAT, [1, heads, 1, 'total']);
  const bytes = g.encode().model;
  const model = onnxModel(bytes);
  const { taps, rewrite } = tapRewrite(model, attentionSites(model).taps);
  assert.equal(taps.length, 1);
  const values = (count: number, seed: number): Float32Array => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 1.7 + seed));
  const total = past + 1;
  const feeds = {
    q: new ort.Tensor('float32', values(hidden, 1), [1, 1, hidden]),
    k: new ort.Tensor('float32', values(hidden, 2), [1, 1, hidden]),
    v: new ort.Tensor('float32', values(hidden, 3), [1, 1, hidden]),
    mask: new ort.Tensor('int32', Int32Array.from({ length: total }, (_, j) => (j === 2 ? 0 : 1)), [1, total]),
    attention_bias: new ort.Tensor('float32', values(heads * total, 4), [1, heads, 1, total]),
    past_key: new ort.Tensor('float32', values(heads * max * d, 5), cacheDims),
    past_value: new ort.Tensor('float32', values(heads * max * d, 6), cacheDims),
    past_sequence_length: new ort.Tensor('int32', Int32Array.of(past), [1]),
  };
  const original = await ort.InferenceSession.create(bytes);
  const out = await (await ort.InferenceSession.create(rewrittenModelBytes(model, rewrite))).run(feeds);
  await checkedRewrite(original, out, feeds, outputs, ['dmmha']);
  // the probabilities are the softmax of the kernel's own scores, and the masked key has none
  const qk = (await original.run(feeds)).qk.data as Float32Array;
  const probs = out[taps[0].probsTensor].data as Float32Array;
  assert.deepEqual(out[taps[0].probsTensor].dims, [1, heads, 1, total]);
  const want = softmaxRows(Array.from({ length: heads }, (_, h) => Array.from(qk.subarray(h * total, (h + 1) * total))));
  want.flat().forEach((p, i) => assert.ok(Math.abs(probs[i] - p) <= 1e-6, `probability ${i}: ${probs[i]} against ${p}`));
  for (let h = 0; h < heads; h++) assert.ok(probs[h * total + 2] < 1e-6, `head ${h} attends to the masked key`);
});

test("DecoderMaskedMultiHeadAttention's cross-attention: its qk output through a softmax, within 1e-6 of softmax(q k^T / sqrt(d)) over the given keys", async () => {
  const [heads, d, keys] = [2, 8, 5];
  const bytes = maskedCrossAttention(heads, d, keys).model;
  const model = onnxModel(bytes);
  const { taps, rewrite } = tapRewrite(model, attentionSites(model).taps);
  assert.deepEqual([taps.length, taps[0].site.op, taps[0].site.kind], [1, 'com.microsoft.DecoderMaskedMultiHeadAttention', 'cross']);
  const q = Float32Array.from({ length: heads * d }, (_, i) => Math.sin(i * 0.9));
  const k = Float32Array.from({ length: heads * keys * d }, (_, i) => Math.cos(i * 1.1));
  const perHead = [1, heads, keys, d];
  const feeds = { query: new ort.Tensor('float32', q, [1, 1, heads * d]), encoder_key: new ort.Tensor('float32', k, perHead), encoder_value: new ort.Tensor('float32', k, perHead) };
  const out = await (await ort.InferenceSession.create(rewrittenModelBytes(model, rewrite))).run(feeds);
  const probs = out[taps[0].probsTensor].data as Float32Array;
  const want = softmaxRows(Array.from({ length: heads }, (_, h) => Array.from({ length: keys }, (_, j) => dot(q, h * d, k, (h * keys + j) * d, d) / Math.sqrt(d))));
  want.flat().forEach((p, i) => assert.ok(Math.abs(probs[i] - p) <= 1e-6, `probability ${i}: ${probs[i]} against ${p}`));
});

test("a DecoderMaskedMultiHeadAttention cache that ONNX Runtime's CPU kernel does not run (past_present_share_buffer=0) is refused with that reason, in one line", async () => {
  const path = join(scratch, 'masked-decoder-unshared.onnx');
  writeFileSync(path, maskedDecoder(TINY_MASKED_DECODER, { sharedBuffer: false }).model);
  await assert.rejects(LoadedModel.load({ model: path, executionProvider: 'cpu' }), (e: Error) => {
    assert.match(e.message, /fused com\.microsoft DecoderMaskedMultiHeadAttention node '\/model\/layers\.0\/self_attn\/DecoderMaskedMultiHeadAttention' and 1 more cannot be had: .*past_present_share_buffer=0, which ONNX Runtime's CPU kernel does not run/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
});
