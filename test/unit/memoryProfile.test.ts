// The pure half of the memory profiler: a real trace of tiny-bert-mlm (captured here, once, with
// ONNX Runtime's profiler; not committed) read into operators, attention found in it, and the fits
// and predictions of a sweep.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { fittedAt, fitsUpTo, growthFit } from '../../src/analysis/growthFit';
import { ProfilePoint, comparedPoint, defaultLengths, fusedProbabilities, predictedPeakBytes, profileFits } from '../../src/analysis/memoryProfile';
import { attentionMatcher, attentionTotals, nodeScratchBytes, topOperators, tracedRun } from '../../src/analysis/profileTrace';
import { bytesOption } from '../../src/cli/optionValues';
import { FUSED_OPS } from '../../src/model/fusedAttention';
import { profileTarget, profiledRun } from '../../src/model/profiledRun';
import { TINY_BERT } from '../helpers/paths';

const N = 48;
const load = { model: TINY_BERT, executionProvider: 'cpu' as const };
let trace: unknown;
let attentionNodes: string[];

before(async () => {
  attentionNodes = profileTarget(load).attentionNodes;
  trace = (await profiledRun(load, { n: N, batch: 1 })).trace;
});

test('the trace of a profiled run: the last run (not the warm-up), in execution order, with the allocator per provider', () => {
  const run = tracedRun(trace, attentionMatcher(attentionNodes, FUSED_OPS));
  const events = trace as { cat: string; name: string }[];
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time')).length;
  assert.equal(run.operators.length * 2, kernels, 'the warm-up and the profiled run hold the same operators');
  assert.deepEqual(run.providers.map((p) => p.provider), ['CPUExecutionProvider']);
  const cpu = run.providers[0];
  assert.ok(cpu.peakBytes >= Math.max(...run.operators.map((o) => o.inUseBytes)));
  assert.ok(cpu.arenaBytes >= cpu.peakBytes);
  assert.ok(run.runMs > 0);
  const softmax = run.operators.filter((o) => o.op === 'Softmax');
  assert.equal(softmax.length, 2);
  assert.ok(softmax.every((o) => o.attention && o.outputShapes === `float[1,4,${N},${N}]`));
});

test("attention's operators in the optimised graph: the fused score MatMul, the mask, softmax and probabilities x V of each layer", () => {
  const run = tracedRun(trace, attentionMatcher(attentionNodes, FUSED_OPS));
  const attention = run.operators.filter((o) => o.attention);
  assert.deepEqual(attention.map((o) => o.op), ['FusedMatMul', 'Add', 'Softmax', 'MatMul', 'FusedMatMul', 'Add', 'Softmax', 'MatMul']);
  assert.match(attention[0].node, /MatMulScaleFusion/);
  const totals = attentionTotals(run.operators, FUSED_OPS);
  assert.equal(totals.probabilityBytes, 4 * 2 * 4 * N * N);
  // scores, masked scores and probabilities are n x n each; the context n x d
  assert.equal(totals.operatorBytes, 2 * (3 * 4 * 4 * N * N + 4 * N * 64));
  assert.equal(topOperators(run.operators, 'outputBytes', 1)[0].op, 'Gemm');
});

test("a fused op counts the scratch ONNX Runtime's node statistics give it, else the rise it made in the peak", () => {
  const op = (node: string, inUse: number, peak: number, scratchBytes?: number) => ({ node, op: 'GroupQueryAttention', provider: 'CPU', durationMs: 1, outputBytes: 10, inUseBytes: inUse, peakBytes: peak, arenaBytes: peak, inputShapes: '', outputShapes: '', attention: true, ...(scratchBytes === undefined ? {} : { scratchBytes }) });
  const fused = new Set(['GroupQueryAttention']);
  const seen = attentionTotals([op('a', 100, 400), op('b', 150, 400), op('c', 200, 900)], fused);
  assert.equal(seen.probabilityBytes, 300 + 700);
  assert.equal(seen.fusedScratchBytes, 1000);
  // b allocated 120 bytes beneath the peak a had raised: only the statistics see them
  const counted = attentionTotals([op('a', 100, 400, 300), op('b', 150, 400, 120)], fused);
  assert.deepEqual([counted.probabilityBytes, counted.fusedScratchBytes], [420, 420]);
  assert.equal(attentionTotals([{ ...op('s', 0, 0), op: 'Softmax', outputBytes: 64 }], fused).fusedScratchBytes, undefined);
});

test("ONNX Runtime's node memory statistics: each node's scratch by its name, the file's hash suffix taken off", () => {
  const csv = '#name,input_sizes,initializers_sizes,total_dynamic_sizes,total_temp_allocations\nGQA_0_2379168813677912260,8192,0,16384,147456\n/layers.0/attn,Softmax_12,0,0,4,8\n\n';
  assert.deepEqual([...nodeScratchBytes(csv)], [['GQA_0', 147456], ['/layers.0/attn,Softmax', 8]]);
});

test("a fused kernel's probabilities: the n^2 part of its scratch over a whole-sequence sweep, the n part over steps", () => {
  // GroupQueryAttention fp16 on the CPU, 2 layers of 4 heads x 16: 2 (16 n^2 + 1280 n), as measured
  const fusedAt = (n: number, scratch: number, softmaxBytes = 0): ProfilePoint => ({ ...point(n, 1, 1e6, scratch + softmaxBytes), fusedScratchBytes: scratch });
  const whole = [16, 32, 64, 128].map((n) => fusedAt(n, 2 * (16 * n * n + 1280 * n)));
  const split = fusedProbabilities(whole, false);
  assert.deepEqual(split.points.map((p) => p.attentionBytes), [16, 32, 64, 128].map((n) => 32 * n * n));
  assert.match(split.note!, /grows as n\^2/);
  // one query row a step after a past: the part in n; a softmax left unfused (8 n) stays counted
  const steps = [2, 4, 8].map((n) => fusedAt(n, 88 * n + 2112, 8 * n));
  assert.deepEqual(fusedProbabilities(steps, true).points.map((p) => p.attentionBytes), [2, 4, 8].map((n) => 96 * n));
  const few = fusedProbabilities(whole.slice(0, 2), false);
  assert.deepEqual(few.points.map((p) => p.attentionBytes), whole.slice(0, 2).map((p) => p.attentionBytes));
  assert.match(few.note!, /could not be told apart/);
  assert.equal(fusedProbabilities([point(16, 1, 1e6, 10)], false).note, undefined, 'no fused op, nothing said');
});

test('the growth fit: an exact quadratic, its exponent, and the longest n within a budget', () => {
  const ns = [16, 32, 64, 128, 256];
  const f = growthFit(ns, ns.map((n) => 1000 + 20 * n + 3 * n * n));
  assert.ok(Math.abs(f.a - 1000) < 1e-6 && Math.abs(f.b - 20) < 1e-9 && Math.abs(f.c - 3) < 1e-12);
  assert.ok(Math.abs(growthFit(ns, ns.map((n) => 7 * n * n)).exponent! - 2) < 1e-12);
  assert.ok(Math.abs(growthFit(ns, ns.map((n) => 5 * n)).exponent! - 1) < 1e-12);
  assert.ok(Math.abs(fittedAt(f, 512) - (1000 + 20 * 512 + 3 * 512 * 512)) < 1e-6);
  assert.equal(fitsUpTo(f, 1000 + 20 * 300 + 3 * 300 * 300, 4096), 300);
  assert.equal(fitsUpTo(f, 10, 4096), 0);
  assert.equal(growthFit([64], [5]).exponent, null);
});

const point = (n: number, batch: number, peakBytes: number, attentionBytes = 0): ProfilePoint => ({
  n, batch, wallMs: n / 10, peakBytes, arenaBytes: peakBytes, rssBytes: null, weightsBytes: 1000, attentionBytes, attentionOperatorBytes: 0, otherActivationBytes: 0, kvCacheBytes: 0, attentionMs: 0, operatorMs: 0, providers: [], operators: { byBytes: [], byTime: [] },
});

test("a point's peak predicted before it runs: the estimate first, then the fit of the points measured", () => {
  assert.equal(predictedPeakBytes([], 16, 1, 5000), 5000);
  const quadratic = (n: number): number => 1000 + n * n;
  const measured = [16, 32, 64].map((n) => point(n, 1, quadratic(n)));
  assert.ok(Math.abs(predictedPeakBytes(measured, 128, 1, 0) - quadratic(128)) < 1e-6);
  // another batch: the activations scale with it, the weights do not
  assert.ok(Math.abs(predictedPeakBytes(measured, 64, 4, 0) - (1000 + 4 * 64 * 64)) < 1e-6);
});

test('measured against estimated: the error of each term, and which differs past 10%', () => {
  const p = comparedPoint(point(64, 1, 1e6, 1090), { attentionBytes: 1000, kvCacheBytes: 0 });
  assert.ok(Math.abs(p.errorPercent!.attention! - 9) < 1e-9);
  assert.equal(p.differences, undefined);
  const far = comparedPoint(point(64, 1, 1e6, 2000), { attentionBytes: 1000, kvCacheBytes: 0 });
  assert.equal(far.errorPercent!.attention, 100);
  assert.deepEqual(far.differences, ['attention probabilities: measured 2000 bytes, estimated 1000 (+100.0%)']);
});

test('default lengths: powers of two from 16 to the positions, and the fits extrapolated to them', () => {
  assert.deepEqual(defaultLengths(128), [16, 32, 64, 128]);
  assert.deepEqual(defaultLengths(100), [16, 32, 64]);
  assert.equal(defaultLengths(null).at(-1), 1024);
  assert.equal(defaultLengths(1 << 20).at(-1), 8192);
  const points = [16, 32, 64].map((n) => point(n, 1, 1000 + n * n, 4 * n * n));
  const fits = profileFits(points, 512, 100, 1000 + 200 * 200);
  assert.deepEqual(fits.extrapolations.map((e) => [e.n, e.extrapolated]), [[100, true], [512, true]]);
  assert.ok(Math.abs(fits.extrapolations[1].attentionBytes - 4 * 512 * 512) < 1e-3);
  assert.equal(fits.fitsUpTo, 200);
});

test('--budget sizes', () => {
  assert.equal(bytesOption('8GiB', 'budget'), 8 * 2 ** 30);
  assert.equal(bytesOption('512 MiB', 'budget'), 512 * 2 ** 20);
  assert.equal(bytesOption('2GB', 'budget'), 2e9);
  assert.equal(bytesOption('1000', 'budget'), 1000);
  assert.throws(() => bytesOption('lots', 'budget'), /--budget takes a size such as 8GiB/);
});
