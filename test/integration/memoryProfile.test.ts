// The memory profiler on real models in the engine: an encoder (tiny-bert-mlm) and two decoders
// (gpt2_past, one token per run after a past; the GQA decoder of onnxruntime-genai, fused
// attention), its safety stops, an engine killed mid-sweep, and the command line.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EngineClient } from '../../src/engine/engineClient';
import { modelProfile } from '../../src/modelProfile';
import { CLI, ENGINE, GENAI_GQA, ORT_TESTDATA, TINY_BERT } from '../helpers/paths';

const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
after(() => engine.dispose());
const increasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]);

test('tiny-bert-mlm: the peak grows with n, the probabilities are exactly 4 L h n^2 bytes, grow as n^2 and match the estimate', async () => {
  const seen: string[] = [];
  const p = await modelProfile(engine, { model: TINY_BERT, ep: 'cpu', extrapolateTo: 512 }, (i, total, n, batch) => seen.push(`${i + 1}/${total} n=${n} b=${batch}`));
  assert.deepEqual(seen, ['1/4 n=16 b=1', '2/4 n=32 b=1', '3/4 n=64 b=1', '4/4 n=128 b=1']);
  assert.deepEqual(p.points.map((x) => x.n), [16, 32, 64, 128]);
  assert.ok(increasing(p.points.map((x) => x.peakBytes)), 'peak grows with n');
  for (const x of p.points) {
    assert.equal(x.attentionBytes, 4 * 2 * 4 * x.n * x.n, `softmax outputs at n = ${x.n}`);
    assert.ok(Math.abs(x.errorPercent!.attention!) <= 10, `attention within 10% of the estimate at n = ${x.n}`);
    assert.ok(x.rssBytes! > x.peakBytes && x.arenaBytes >= x.peakBytes);
    assert.ok(x.operators.byBytes.length === 10 && x.operators.byTime.length === 10);
  }
  assert.ok(Math.abs(p.fit.attentionBytes.exponent! - 2) < 0.05);
  assert.equal(p.estimateSource, 'config.json (config)');
  const at512 = p.extrapolations.find((e) => e.n === 512)!;
  assert.equal(at512.extrapolated, true);
  assert.ok(Math.abs(at512.attentionBytes - 4 * 2 * 4 * 512 * 512) < 1);
  assert.equal(p.timeline.n, 128);
  assert.equal(p.timeline.steps.filter((s) => s.attention && s.op === 'Softmax').length, 2);
});

test('decoders: gpt2_past (a step after a past of n - 1, 8 positions) and the GQA decoder (fused attention): what they hold grows with n, the attention as estimated', async () => {
  const gpt2 = await modelProfile(engine, { model: join(ORT_TESTDATA, 'gpt2_past.onnx'), ep: 'cpu', lengths: [2, 4, 8] });
  // its largest tensor is one step's logits, which n leaves alone: the peak stays, the step's scores and cache grow
  assert.ok(gpt2.points.every((x, i) => i === 0 || x.peakBytes >= gpt2.points[i - 1].peakBytes));
  assert.ok(increasing(gpt2.points.map((x) => x.attentionOperatorBytes)));
  assert.ok(increasing(gpt2.points.map((x) => x.kvCacheBytes)));
  assert.match(gpt2.notes.join(' '), /one token per run/);
  // no config beside it: the estimate reads the graph; ONNX Runtime fuses its attention, whose one
  // query row a step (12 layers x 2 heads x n fp32) is the part of the kernel's scratch that grows with n
  assert.equal(gpt2.estimateSource, 'the graph (12 attention layers, 2 heads, head size 2)');
  for (const x of gpt2.points) {
    assert.ok(x.fusedScratchBytes! > x.attentionBytes);
    assert.ok(Math.abs(x.errorPercent!.attention!) <= 10, `gpt2_past attention at n = ${x.n}: ${x.errorPercent!.attention}%`);
  }
  const gqa = await modelProfile(engine, { model: GENAI_GQA, ep: 'cpu', lengths: [16, 32, 64, 128] });
  assert.ok(increasing(gqa.points.map((x) => x.peakBytes)));
  assert.equal(gqa.estimateSource, 'genai_config.json (decoder)');
  // the cache the run leaves is the estimate's exactly; the probabilities the kernel holds in fp32
  // (2 layers x 4 heads x n^2 x 4 bytes), told apart from its working copies, are the estimate's
  for (const x of gqa.points) {
    assert.equal(x.errorPercent!.kvCache, 0);
    assert.equal(x.attentionBytes, 2 * 4 * x.n * x.n * 4);
    assert.ok(Math.abs(x.errorPercent!.attention!) <= 10, `GQA attention at n = ${x.n}: ${x.errorPercent!.attention}%`);
    assert.ok(x.fusedScratchBytes! > x.attentionBytes, 'its scratch holds its working copies of Q, K, V besides');
  }
  assert.match(gqa.notes.join(' '), /the fused kernel's probabilities: the part of what it allocates that grows as n\^2/);
  assert.ok(gqa.points.every((x) => x.attentionOperatorBytes > 0));
});

test("--tapped: each point again on the capture's tapped copy, whose outputs hold every layer's probabilities (and the lab's queries and keys)", async () => {
  const p = await modelProfile(engine, { model: TINY_BERT, ep: 'cpu', lengths: [32, 128], tapped: true });
  for (const x of p.points) {
    const probabilities = 4 * 2 * 4 * x.n * x.n;
    const queriesKeys = 4 * 2 * 2 * x.n * 64;
    assert.ok(x.tapped!.peakBytes >= x.peakBytes + probabilities + queriesKeys, `at n = ${x.n}: ${x.tapped!.peakBytes} against ${x.peakBytes}`);
    assert.ok(x.tapped!.peakBytes <= x.peakBytes + 1.1 * (probabilities + queriesKeys), 'and not much more');
    assert.ok(x.tapped!.wallMs > 0);
  }
});

test('a small budget stops the sweep before the point that would not fit, with its prediction', async () => {
  const p = await modelProfile(engine, { model: TINY_BERT, ep: 'cpu', lengths: [16, 32, 64, 128], budgetBytes: 20 * 2 ** 20 });
  assert.deepEqual(p.points.map((x) => x.n), [16, 32]);
  assert.match(p.stopped!, /^stopped before n = 64, batch 1: its peak is predicted at [\d.]+ MiB, more than the 20 MiB the sweep may use \(the budget set\)$/);
});

test('an engine killed during a sweep keeps the points measured before', async () => {
  const own = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
  try {
    const p = await modelProfile(own, { model: TINY_BERT, ep: 'cpu', lengths: [16, 32, 64] }, (i) => {
      if (i === 2) process.kill(own.pid!, 'SIGKILL');
    });
    assert.deepEqual(p.points.map((x) => x.n), [16, 32]);
    assert.match(p.stopped!, /^n = 64, batch 1 failed: the engine process was killed by SIGKILL/);
  } finally {
    own.dispose();
  }
});

test('attention-lens profile: the JSON contract, the HTML report, and its help', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attention-lens-profile-cli-'));
  const json = join(dir, 'p.json');
  const out = execFileSync('node', [CLI, 'profile', '--model', TINY_BERT, '--ep', 'cpu', '--seq', '16,32', '--batch', '1,2', '--json', json, '--html', join(dir, 'p.html')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /tiny-bert-mlm\/model\.onnx: 4 points, peak [\d.]+ MiB at n=32 \(batch 2\), attention grows as n\^2\.00, fits in/);
  const p = JSON.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(p.points.map((x: { n: number; batch: number }) => [x.n, x.batch]), [[16, 1], [32, 1], [16, 2], [32, 2]]);
  for (const k of ['n', 'batch', 'wallMs', 'peakBytes', 'arenaBytes', 'rssBytes', 'attentionBytes', 'operators', 'estimate', 'errorPercent']) assert.ok(k in p.points[0], k);
  assert.ok('fit' in p && 'budget' in p && 'timeline' in p);
  assert.equal(p.points[2].attentionBytes, 2 * p.points[0].attentionBytes, 'batch 2 holds twice the probabilities');
  assert.match(readFileSync(join(dir, 'p.html'), 'utf8'), /"profile":\{"model"/);
  const help = spawnSync('node', [CLI, 'profile', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /attention-lens profile --model <path\|demo> \[--seq 64,128,\.\.\.\] \[--batch 1,4\]/);
  const bad = spawnSync('node', [CLI, 'profile', '--model', TINY_BERT, '--budget', 'lots'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});
