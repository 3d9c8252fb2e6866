// 200 cases of the fuzz suite (npm run fuzz runs 1,200): every category, each case refused in
// one line or answered with a valid report, none hanging, past the memory bound, leaving a
// stack trace, writing outside its output paths or (traced where strace is installed) opening
// a file outside the model's folder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BAD_OUTCOMES, FuzzRun, fuzzSummary, runFuzz } from './fuzzRunner';

test('200 fuzz cases: no bad outcome', { timeout: 600_000 }, async () => {
  const run: FuzzRun = { seed: 15, indices: Array.from({ length: 200 }, (_, i) => i), workers: 2, timeoutMs: 60_000, memoryBytes: 1.5 * 2 ** 30, trace: true };
  const started = performance.now();
  const results = await runFuzz(run);
  const summary = fuzzSummary(run, results, (performance.now() - started) / 1000);
  assert.equal(results.length, 200);
  assert.equal(results.filter((r) => (BAD_OUTCOMES as readonly string[]).includes(r.outcome)).length, 0, summary);
  assert.ok(results.some((r) => r.outcome === 'refused') && results.some((r) => r.outcome === 'ok'), summary);
});
