// Attention from fused ops: each of ONNX Runtime's fused forms against an unfused twin of the
// same weights, the real exports that hold them, ONNX's own cases for the standard Attention op,
// the rewrite's self-check, and the ops and attributes that are refused with their reason.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { AttentionForm, FusedModelShape, TINY_FUSED_SHAPE, fusedAttentionModel } from '../../src/model/builder/fusedAttentionModels';
import { GraphBuilder } from '../../src/model/builder/onnxBuilder';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { LoadedModel } from '../../src/model/capture';
import { attentionSites, tapRewrite } from '../../src/model/attentionTap';
import { ONNX_FLOAT, onnxModel, rewrittenModelBytes } from '../../src/model/onnxGraph';
import { unfusedAttention } from '../../src/model/attentionUnfusing';
import { tensorFloats } from '../../src/model/ortSession';
import { checkedRewrite, outputMismatch } from '../../src/model/rewriteCheck';
import { GENAI_GQA, ONNX_ATTENTION_OP, ORT_TESTDATA } from '../helpers/paths';
import { tensorProto } from '../helpers/tensorProto';
import { futureMass, worstRowSumError } from '../helpers/attentionChecks';

process.env.ORT_DISABLE_TELEMETRY = '1';
const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-fused-'));
const IDS = [3, 9, 1, 22, 7, 5, 11, 40, 2];

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), a.length === b.length ? 0 : Infinity);

async function captured(shape: FusedModelShape, form: AttentionForm): Promise<{ model: LoadedModel; capture: AttentionCapture }> {
  const path = join(scratch, `${form}-${Object.values(shape).join('-')}.onnx`);
  writeFileSync(path, fusedAttentionModel(shape, form).model);
  const model = await LoadedModel.load({ model: path, executionProvider: 'cpu' });
  return { model, capture: await model.capture({ ids: IDS, includeQueryKey: true }) };
}

const CASES: { form: AttentionForm; over: Partial<FusedModelShape>; op: string; tolerance: number }[] = [
  { form: 'Attention', over: {}, op: 'com.microsoft.Attention', tolerance: 1e-5 },
  { form: 'Attention', over: { causal: true, layerNorm: true, intermediate: 64 }, op: 'com.microsoft.Attention', tolerance: 1e-5 },
  { form: 'MultiHeadAttention', over: {}, op: 'com.microsoft.MultiHeadAttention', tolerance: 1e-5 },
  { form: 'MultiHeadAttention', over: { causal: true }, op: 'com.microsoft.MultiHeadAttention', tolerance: 1e-5 },
  { form: 'GroupQueryAttention', over: { causal: true }, op: 'com.microsoft.GroupQueryAttention', tolerance: 1e-5 },
  { form: 'GroupQueryAttention', over: { causal: true, kvHeads: 2 }, op: 'com.microsoft.GroupQueryAttention', tolerance: 1e-5 },
  { form: 'GroupQueryAttention', over: { causal: true, kvHeads: 2, window: 3 }, op: 'com.microsoft.GroupQueryAttention', tolerance: 1e-5 },
  { form: 'GroupQueryAttention', over: { causal: true, kvHeads: 2, packedQkv: true }, op: 'com.microsoft.GroupQueryAttention', tolerance: 1e-5 },
  { form: 'GroupQueryAttention', over: { causal: true, softcap: 2 }, op: 'com.microsoft.GroupQueryAttention', tolerance: 1e-5 },
  { form: 'GroupQueryAttention', over: { causal: true, kvHeads: 2, float16: true }, op: 'com.microsoft.GroupQueryAttention', tolerance: 2e-3 },
  // rotary embedding as its own op before MultiHeadAttention, and inside GroupQueryAttention
  { form: 'MultiHeadAttention', over: { causal: true, rotary: true }, op: 'com.microsoft.MultiHeadAttention', tolerance: 1e-5 },
  { form: 'GroupQueryAttention', over: { causal: true, kvHeads: 2, rotary: true, headDim: 16 }, op: 'com.microsoft.GroupQueryAttention', tolerance: 1e-5 },
  // a quantised export: 4-bit projections (MatMulNBits), the score MatMul in float
  { form: 'MatMulNBits', over: { int4: true, causal: true }, op: 'Softmax', tolerance: 1e-5 },
];

for (const { form, over, op, tolerance } of CASES) {
  test(`${form} ${JSON.stringify(over)}: every probability, query and key within ${tolerance} of the unfused twin's`, async () => {
    const shape = { ...TINY_FUSED_SHAPE, ...over };
    const fused = await captured(shape, form);
    const twin = await captured(shape, 'unfused');
    assert.equal(fused.capture.layers.length, shape.layers);
    const site = fused.model.info.attention[0];
    assert.equal(site.op, op);
    assert.equal(site.heads, shape.heads);
    assert.equal(site.kvHeads, shape.kvHeads < shape.heads ? shape.kvHeads : undefined);
    if (shape.kvHeads < shape.heads) assert.deepEqual(site.kvGroupOfHead, [0, 0, 1, 1]);
    assert.equal(site.window, shape.window);
    assert.equal(site.softcap, shape.softcap);
    assert.equal(fused.model.info.precision, shape.float16 ? 'float16' : 'float32');
    fused.capture.layers.forEach((l, i) => {
      const t = twin.capture.layers[i];
      assert.equal(l.heads, shape.heads);
      assert.ok(maxDiff(l.probs, t.probs) <= tolerance, `layer ${i}: probabilities differ by ${maxDiff(l.probs, t.probs)}`);
      assert.ok(worstRowSumError(l) < (shape.float16 ? 2e-3 : 1e-5), `layer ${i}: rows off by ${worstRowSumError(l)}`);
      if (shape.causal) assert.equal(futureMass(l), 0);
      else assert.ok(futureMass(l) > 0.1);
      // the lab's vectors: per query head, shared keys repeated for each head of the group; a
      // rotation inside the op comes after the tapped vectors, and the report says so
      assert.ok(l.query && t.query && l.key && t.key, 'queries and keys are captured');
      assert.equal(site.unrotatedVectors, form === 'GroupQueryAttention' && shape.rotary ? true : undefined);
      if (site.unrotatedVectors) return;
      const vectorTolerance = shape.float16 ? 2e-2 : 1e-5;
      assert.equal(l.key.heads, shape.heads);
      assert.ok(maxDiff(l.query.data, t.query.data) <= vectorTolerance, `queries differ by ${maxDiff(l.query.data, t.query.data)}`);
      assert.ok(maxDiff(l.key.data, t.key.data) <= vectorTolerance, `keys differ by ${maxDiff(l.key.data, t.key.data)}`);
    });
    await fused.model.release();
    await twin.model.release();
  });
}

test("GroupQueryAttention's smooth softmax: rows leave mass to the sink, reported per head, and the first layer's are the twin's scaled by their sum", async () => {
  const shape = { ...TINY_FUSED_SHAPE, causal: true, kvHeads: 2, smoothSoftmax: true };
  const fused = await captured(shape, 'GroupQueryAttention');
  const twin = await captured(shape, 'unfused');
  assert.equal(fused.model.info.attention[0].sink, true);
  fused.capture.layers.forEach((l, i) => {
    const t = twin.capture.layers[i];
    for (let r = 0; r < l.heads * l.queries; r++) {
      let sum = 0;
      for (let k = 0; k < l.keys; k++) sum += l.probs[r * l.keys + k];
      assert.ok(sum < 1 - 1e-4, `row ${r} gives the sink nothing`);
      // the first layer's input is the twin's; later layers read what the sink changed
      if (i === 0) for (let k = 0; k < l.keys; k++) assert.ok(Math.abs(l.probs[r * l.keys + k] / sum - t.probs[r * l.keys + k]) < 1e-5, `row ${r} key ${k}`);
    }
  });
  const stats = analyzeCapture(fused.capture, { headDistance: false });
  assert.ok(stats.heads.every((h) => h.sinkMass > 1e-4 && h.sinkMass < 1), stats.heads.map((h) => h.sinkMass).join(', '));
  await fused.model.release();
  await twin.model.release();
});

test('genai-qwen35-gqa (onnxruntime-genai layout): its two fp16 GroupQueryAttention layers, causal, four heads on two KV groups', async () => {
  const m = await LoadedModel.load({ model: GENAI_GQA, executionProvider: 'cpu' });
  assert.match(m.info.path, /decoder\.onnx$/);
  assert.equal(m.info.maxPositions, 128, 'context_length of genai_config.json');
  assert.equal(m.info.vocabSize, 1000);
  assert.equal(m.info.precision, 'float16');
  assert.deepEqual(m.info.attention.map((a) => [a.op, a.heads, a.kvHeads, a.kvGroupOfHead?.join('')]), [
    ['com.microsoft.GroupQueryAttention', 4, 2, '0011'],
    ['com.microsoft.GroupQueryAttention', 4, 2, '0011'],
  ]);
  const cap = await m.capture({ ids: IDS, includeQueryKey: true });
  for (const l of cap.layers) {
    assert.equal(l.queries, IDS.length);
    assert.ok(worstRowSumError(l) < 2e-3, `rows off by ${worstRowSumError(l)}`);
    assert.equal(futureMass(l), 0);
    assert.equal(l.query?.dims, 16);
  }
  await assert.rejects(m.capture({ ids: Array.from({ length: 129 }, () => 5) }), /129 tokens long but the model takes at most 128 positions/);
  await m.release();
});

for (const [file, op, heads] of [
  ['attention_opt.onnx', 'com.microsoft.Attention', 2],
  ['bert_3d_attention_opt.onnx', 'com.microsoft.Attention', 4],
  ['attention_mha.onnx', 'com.microsoft.MultiHeadAttention', 2],
] as const) {
  test(`${file}: the fused op of an ONNX Runtime optimizer export gives its attention`, async () => {
    const m = await LoadedModel.load({ model: join(ORT_TESTDATA, file), executionProvider: 'cpu' });
    assert.equal(m.info.attention[0].op, op);
    assert.equal(m.info.attention[0].unfused, op === 'com.microsoft.Attention' ? true : undefined);
    assert.match(m.info.warnings.join(' '), /inputs input_1, input_2 take no token ids: they were filled with seeded random values/);
    const cap = await m.capture({ ids: [0, 0, 0] });
    assert.equal(cap.layers.length, 1);
    assert.equal(cap.layers[0].heads, heads);
    assert.ok(worstRowSumError(cap.layers[0]) < 1e-5);
    await m.release();
  });
}

test('the rewrite self-check refuses a rewrite that does not reproduce the model (a wrong scale)', async () => {
  const bytes = fusedAttentionModel(TINY_FUSED_SHAPE, 'Attention').model;
  const model = onnxModel(bytes);
  const index = model.nodes.findIndex((n) => n.opType === 'Attention');
  const node = model.nodes[index];
  // the rewrite of a node whose scale is twice the kernel's default, in place of the real node
  const wrongScale = { ...node, attributes: new Map(node.attributes).set('scale', { name: 'scale', f: 2 / Math.sqrt(TINY_FUSED_SHAPE.headDim) }) };
  const corrupted = unfusedAttention(model, wrongScale, index, 'layer 0', node.name);
  assert.ok(!('reason' in corrupted));
  const tapped = rewrittenModelBytes(model, { extraOutputs: [corrupted.probsTensor], nodeBytes: new Map([[index, corrupted.replace!.with]]), initializers: corrupted.initializers });
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS, BigInt), [1, IDS.length]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(IDS, () => 1n), [1, IDS.length]),
  };
  const original = await ort.InferenceSession.create(bytes);
  const out = await (await ort.InferenceSession.create(tapped)).run(feeds);
  await assert.rejects(
    checkedRewrite(original, out, feeds, ['last_hidden_state_output'], [node.name]),
    /rewrite of fused attention node '\/layers.0\/attention\/Attention' into standard operators does not reproduce the model: output 'last_hidden_state_output' differs by .*its attention is not shown/,
  );
  // the faithful rewrite passes the same check
  const faithful = unfusedAttention(model, node, index, 'layer 0', node.name);
  assert.ok(!('reason' in faithful));
  const good = rewrittenModelBytes(model, { extraOutputs: [], nodeBytes: new Map([[index, faithful.replace!.with]]), initializers: faithful.initializers });
  await checkedRewrite(original, await (await ort.InferenceSession.create(good)).run(feeds), feeds, ['last_hidden_state_output'], [node.name]);
});

test('the self-check compares non-finite values and ids exactly, and does not let them hide a difference', () => {
  const f = (values: number[]): ort.Tensor => new ort.Tensor('float32', Float32Array.from(values), [values.length]);
  const ids = (values: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [values.length]);
  const check = (a: ort.Tensor, b: ort.Tensor) => outputMismatch({ y: a }, { y: b }, ['y']);
  assert.equal(check(f([-Infinity, 1, 2]), f([-Infinity, 1, 2.00001])), undefined, 'masked scores in both');
  assert.equal(check(f([NaN, 1, 2]), f([NaN, 100, -50]))?.output, 'y', 'a NaN does not make every difference relative to nothing');
  assert.equal(check(f([-Infinity, 1, 2]), f([-Infinity, 100, -50]))?.output, 'y', 'an infinity does not hide a difference');
  assert.equal(check(f([-Infinity, 1]), f([0, 1]))?.maxAbsDiff, Infinity, 'infinite in one graph only');
  assert.equal(check(ids([3, 4]), ids([3, 4])), undefined);
  assert.equal(check(ids([3, 4]), ids([3, 5]))?.output, 'y', 'ids differ exactly or not at all');
});

for (const maskFormat of ['1d', '2d', '3d'] as const) {
  test(`com.microsoft Attention with padding in a ${maskFormat} mask_index: the rewrite reproduces the model and hides the padded keys`, async () => {
    const shape = { ...TINY_FUSED_SHAPE, maskFormat, layerNorm: true };
    const bytes = fusedAttentionModel(shape, 'Attention').model;
    const model = onnxModel(bytes);
    const { taps, rewrite } = tapRewrite(model, attentionSites(model).taps);
    assert.equal(taps.length, shape.layers);
    const n = 7;
    const real = 4;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS.slice(0, n), BigInt), [1, n]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => (i < real ? 1n : 0n)), [1, n]),
    };
    const original = await ort.InferenceSession.create(bytes);
    const out = await (await ort.InferenceSession.create(rewrittenModelBytes(model, rewrite))).run(feeds);
    await checkedRewrite(original, out, feeds, ['last_hidden_state_output'], ['all']);
    for (const tap of taps) {
      const probs = tensorFloats(out[tap.probsTensor]);
      for (let h = 0; h < shape.heads; h++) {
        for (let q = 0; q < real; q++) {
          for (let k = real; k < n; k++) assert.ok(probs[(h * n + q) * n + k] < 1e-6, `${tap.name} head ${h}: query ${q} on padded key ${k}`);
        }
      }
    }
  });
}

/** A one-node model of a com.microsoft op, fed hidden states. */
function fusedNodeModel(opType: string, inputs: (g: GraphBuilder, x: string) => string[], attrs: Record<string, number>): string {
  const g = new GraphBuilder(opType);
  const x = g.input('hidden', ONNX_FLOAT, [1, 4, 8]);
  g.node(opType, inputs(g, x), attrs, `${opType}_0`, 1, 'com.microsoft');
  g.output(`${opType}_0_output`, ONNX_FLOAT, [1, 4, 8]);
  const path = join(scratch, `${opType}-${Object.entries(attrs).join('-')}.onnx`);
  writeFileSync(path, g.encode().model);
  return path;
}

test('fused ops that cannot give probabilities, and attribute combinations not supported, are refused by name', async () => {
  const packedWeights = (g: GraphBuilder, x: string): string[] => [x, g.floats('w', [8, 24], new Float32Array(192).fill(0.01)), g.floats('b', [24], new Float32Array(24))];
  await assert.rejects(
    LoadedModel.load({ model: fusedNodeModel('Attention', packedWeights, { num_heads: 2, do_rotary: 1 }), executionProvider: 'cpu' }),
    /fused com\.microsoft Attention node 'Attention_0' cannot be had: this Attention node uses do_rotary=1 \(rotary embedding inside the op\)/,
  );
  await assert.rejects(
    LoadedModel.load({ model: fusedNodeModel('Attention', (g, x) => [...packedWeights(g, x), '', g.floats('past', [2, 1, 2, 3, 4], new Float32Array(48))], { num_heads: 2 }), executionProvider: 'cpu' }),
    /this Attention node uses a past key\/value input/,
  );
  await assert.rejects(
    LoadedModel.load({ model: fusedNodeModel('SparseAttention', (_g, x) => [x, x, x], { num_heads: 2, kv_num_heads: 2 }), executionProvider: 'cpu' }),
    /fused com\.microsoft SparseAttention node 'SparseAttention_0' cannot be had: block-sparse attention computes only the blocks of its layout/,
  );
});

test("ONNX's own Attention-op cases: the tapped graph gives the expected outputs, and softmax probabilities that sum to 1", async () => {
  const cases = readdirSync(ONNX_ATTENTION_OP).filter((d) => d.startsWith('test_attention_') && !d.endsWith('_expanded'));
  assert.ok(cases.length >= 70, `${cases.length} cases`);
  let compared = 0;
  let probabilityOracles = 0;
  for (const c of cases) {
    const dir = join(ONNX_ATTENTION_OP, c);
    const data = join(dir, 'test_data_set_0');
    const model = onnxModel(readFileSync(join(dir, 'model.onnx')));
    const { taps, rewrite } = tapRewrite(model, attentionSites(model).taps);
    assert.equal(taps.length, 1, c);
    const node = model.nodes.find((n) => n.opType === 'Attention')!;
    const feeds: Record<string, ort.Tensor> = {};
    model.inputs.forEach((input, i) => {
      if (existsSync(join(data, `input_${i}.pb`))) feeds[input.name] = tensorProto(join(data, `input_${i}.pb`)).tensor;
    });
    const original = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const tapped = await ort.InferenceSession.create(rewrittenModelBytes(model, rewrite));
    try {
      await original.run(feeds);
    } catch (e) {
      // a case ONNX Runtime does not run is not ours to pass; the tapped graph must fail the same way
      await assert.rejects(tapped.run(feeds), { message: (e as Error).message });
      continue;
    }
    const out = await tapped.run(feeds);
    const mode = node.attributes.get('qk_matmul_output_mode')?.i ?? 0;
    model.outputs.forEach((o, i) => {
      // the tap asks the op's scores output for the softmax: it differs from a case that asked for another stage
      if (o.name === node.outputs[3] && mode !== 3) return;
      const want = tensorFloats(tensorProto(join(data, `output_${i}.pb`)).tensor);
      const got = tensorFloats(out[o.name]);
      const largest = want.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1e-9);
      const tolerance = out[o.name].type === 'float16' ? 2e-3 : 1e-5;
      want.forEach((v, j) => {
        if (Number.isNaN(v)) assert.ok(Number.isNaN(got[j]), `${c} ${o.name}[${j}]`);
        else assert.ok(Math.abs(v - got[j]) <= tolerance * Math.max(1, largest), `${c} ${o.name}[${j}]: ${got[j]} against ${v}`);
      });
      if (o.name === node.outputs[3]) probabilityOracles++;
      compared++;
    });
    const probs = out[taps[0].probsTensor];
    const p = tensorFloats(probs);
    const keys = Number(probs.dims[probs.dims.length - 1]);
    for (let r = 0; r < p.length / keys; r++) {
      let sum = 0;
      for (let k = 0; k < keys; k++) sum += p[r * keys + k];
      // a row whose every key is masked has no probabilities (ONNX gives zeros)
      assert.ok(Math.abs(sum) < 1e-6 || Math.abs(sum - 1) < (probs.type === 'float16' ? 2e-3 : 1e-5), `${c} row ${r} sums to ${sum}`);
    }
  }
  assert.ok(compared >= 70, `${compared} outputs compared`);
  assert.ok(probabilityOracles >= 4, `${probabilityOracles} probability outputs compared`);
});
