// A masked LM's predictions at [MASK] from the built CLI, checked against the model's logits as
// ONNX Runtime computes them directly from the same ids.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { CLI, GENAI_GQA, TINY_BERT } from '../helpers/paths';

process.env.ORT_DISABLE_TELEMETRY = '1';
const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-predictions-'));

interface Prediction {
  position: number;
  kind: string;
  top: { id: number; token: string; probability: number }[];
}

function analyzed(args: string[]): { report: { tokens: string[]; inputIds: number[]; predictions?: Prediction[] }; stdout: string } {
  const out = join(scratch, `${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [CLI, 'analyze', ...args, '--json', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { report: JSON.parse(readFileSync(out, 'utf8')), stdout: r.stdout };
}

/** The top five are distinct tokens, most probable first, of probabilities that sum to at most 1. */
function assertWellFormed(p: Prediction): void {
  assert.equal(p.top.length, 5);
  assert.equal(new Set(p.top.map((t) => t.id)).size, 5);
  for (let i = 1; i < 5; i++) assert.ok(p.top[i].probability <= p.top[i - 1].probability, JSON.stringify(p.top));
  assert.ok(p.top.every((t) => t.probability > 0 && typeof t.token === 'string'));
  assert.ok(p.top.reduce((a, t) => a + t.probability, 0) <= 1 + 1e-9);
}

test('tiny-bert-mlm: the top five at each [MASK], whose first is the argmax of the logits ONNX Runtime gives for the same ids', async () => {
  const { report, stdout } = analyzed(['--model', TINY_BERT, '--text', 'the capital of france is [MASK] , and the capital of italy is [MASK] .']);
  const masks = report.tokens.flatMap((t, i) => (t === '[MASK]' ? [i] : []));
  assert.deepEqual(masks, [6, 14]);
  assert.deepEqual(report.inputIds.filter((_, i) => masks.includes(i)), [103, 103]);
  assert.deepEqual(report.predictions!.map((p) => [p.position, p.kind]), [[6, 'mask'], [14, 'mask']]);
  report.predictions!.forEach(assertWellFormed);
  assert.match(stdout, /; \[MASK\] at 6: ".+" 0\.\d+, .*; \[MASK\] at 14: "/);

  const session = await ort.InferenceSession.create(join(TINY_BERT, 'model.onnx'));
  try {
    const n = report.inputIds.length;
    const int64 = (v: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [1, n]);
    const out = await session.run({ input_ids: int64(report.inputIds), attention_mask: int64(Array(n).fill(1)), token_type_ids: int64(Array(n).fill(0)) });
    const logits = out.logits.data as Float32Array;
    const vocab = Number(out.logits.dims[2]);
    for (const p of report.predictions!) {
      const row = logits.subarray(p.position * vocab, (p.position + 1) * vocab);
      let argmax = 0;
      for (let i = 1; i < vocab; i++) if (row[i] > row[argmax]) argmax = i;
      assert.equal(p.top[0].id, argmax, `position ${p.position}`);
      // the softmax of the same row, in float64
      const max = row[argmax];
      const sum = row.reduce((a, v) => a + Math.exp(v - max), 0);
      assert.ok(Math.abs(p.top[0].probability - 1 / sum) < 1e-5, `${p.top[0].probability} against ${1 / sum}`);
    }
  } finally {
    await session.release();
  }
});

test('a text without [MASK] has no predictions from a masked LM; a causal LM predicts what follows its text', () => {
  assert.equal(analyzed(['--model', TINY_BERT, '--text', 'the quick brown fox jumps over the lazy dog.']).report.predictions, undefined);
  const { report } = analyzed(['--model', GENAI_GQA, '--ids', '5,6,7,8']);
  assert.deepEqual(report.predictions!.map((p) => [p.position, p.kind]), [[3, 'next']]);
  assertWellFormed(report.predictions![0]);
});
