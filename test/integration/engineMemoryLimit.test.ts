// The engine's hard memory cap: a run the memory check admits (here a budget that admits anything,
// as a wrong prediction would) but that passes the cap ends with one line naming the limit, and
// the next run starts a fresh engine.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EngineClient, EngineError } from '../../src/engine/engineClient';
import { randomBert } from '../../src/model/builder/randomBert';
import { ENGINE, SPECIMEN } from '../helpers/paths';

test('a run past the engine memory limit ends with the limit named, and the next run works', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-limit-'));
  const model = join(scratch, 'model.onnx');
  // 12 layers of 12 heads at n = 512: 151 MB of probabilities, held twice while they are captured
  writeFileSync(model, randomBert({ layers: 12, heads: 12, headDim: 8, hidden: 96, intermediate: 0, vocab: 271, maxPositions: 512, layerNorm: true }).model);
  const ids = Array.from({ length: 512 }, (_, i) => 1 + ((i * 37) % 270));
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 120_000 });
  // the engine process starts with the first request, and takes the limit from its environment
  process.env.ATTENTION_LENS_ENGINE_MEMORY_MIB = '256';
  const run = engine.analyze({ load: { model, executionProvider: 'cpu' }, capture: { ids, memoryBudgetBytes: 2 ** 40 }, analysis: {}, returnAttention: false });
  delete process.env.ATTENTION_LENS_ENGINE_MEMORY_MIB;
  try {
    await assert.rejects(
      run,
      (e: unknown) => e instanceof EngineError && e.kind === 'crashed' && /^the engine passed its memory limit: [\d.]+ GiB resident, above its limit of 0\.25 GiB .*the next run starts a fresh engine$/.test(e.message),
    );
    // the fresh engine has the default limit: the same capture now runs
    const r = await engine.analyze({ load: { model: SPECIMEN, executionProvider: 'cpu' }, capture: { text: 'a fox' }, analysis: {}, returnAttention: false });
    assert.equal(r.capture.layers.length, 3);
  } finally {
    engine.dispose();
  }
});
