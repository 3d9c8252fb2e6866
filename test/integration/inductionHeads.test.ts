// Induction heads on real captures: the planted head of a built decoder found by the probe and by
// a text with repeats, and the specimen's hand-built heads, none of which is one.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { INDUCTION_DECODER_ROLES, inductionDecoder } from '../../src/model/builder/inductionDecoder';
import { LoadedModel } from '../../src/model/capture';
import { SPECIMEN } from '../helpers/paths';

process.env.ORT_DISABLE_TELEMETRY = '1';

const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-induction-'));
const decoderPath = join(scratch, 'induction.onnx');
writeFileSync(decoderPath, inductionDecoder().model);

test('the planted induction head scores 1 on the probe and is labelled; the previous-token, duplicate-token and uniform heads are not', async () => {
  const m = await LoadedModel.load({ model: decoderPath, executionProvider: 'cpu' });
  try {
    const cap = await m.capture({ probe: { length: 50, seed: 1 } });
    assert.deepEqual(cap.probe, { length: 50, seed: 1, bosId: null });
    assert.equal(cap.tokens.length, 100);
    assert.deepEqual(cap.inputIds.slice(50), cap.inputIds.slice(0, 50));
    const a = analyzeCapture(cap);
    assert.equal(a.causal, true);
    const byRole = Object.fromEntries(INDUCTION_DECODER_ROLES.map((role, h) => [role, a.heads[h]]));
    assert.ok(byRole.induction.induction! > 0.999, `${byRole.induction.induction}`);
    assert.deepEqual(byRole.induction.labels, ['induction']);
    assert.ok(byRole.duplicate.toPrevOccurrence! > 0.999 && byRole.duplicate.induction! < 1e-6);
    assert.ok(byRole.previous.induction! < 1e-6 && byRole.previous.labels.includes('previous'));
    // uniform: 1 / (i + 1) at the token after the earlier occurrence, over the second copy
    let uniform = 0;
    for (let i = 50; i < 100; i++) uniform += 1 / (i + 1) / 50;
    assert.ok(Math.abs(byRole.uniform.induction! - uniform) < 1e-6, `${byRole.uniform.induction} vs ${uniform}`);
    for (const h of a.heads.slice(1)) assert.ok(!h.labels.includes('induction'), `${h.head}: ${h.labels}`);
    // any text with repeats gives the score: here ids with one repeated run of four
    const text = analyzeCapture(await m.capture({ ids: [5, 6, 7, 8, 9, 5, 6, 7, 8] }));
    assert.ok(text.heads[0].induction! > 0.999 && text.heads[2].toPrevOccurrence! > 0.999);
  } finally {
    await m.release();
  }
});

test('the specimen on the probe: [CLS] first, every hand-built head near zero, none labelled induction', async () => {
  const m = await LoadedModel.load({ model: SPECIMEN, executionProvider: 'cpu' });
  try {
    const cap = await m.capture({ probe: { length: 50, seed: 1 } });
    assert.equal(cap.tokens[0], '[CLS]');
    assert.equal(cap.probe!.bosId, cap.inputIds[0]);
    assert.ok(cap.tokens.slice(1).every((t) => !/^\[.+\]$/.test(t)), cap.tokens.join(' '));
    const a = analyzeCapture(cap);
    for (const h of a.heads) {
      assert.ok(h.induction! < 0.02, `${h.layer}.${h.head}: ${h.induction}`);
      assert.ok(!h.labels.includes('induction'));
    }
    // the same-token head (layer 1, head 3) looks at both occurrences alike: half on the earlier one
    assert.ok(Math.abs(a.heads[7].toPrevOccurrence! - 0.5) < 1e-3, `${a.heads[7].toPrevOccurrence}`);
    const long = await m.capture({ probe: { length: 100, seed: 1 } });
    assert.equal(long.probe!.length, 63);
    assert.ok(long.warnings.includes("the induction probe was shortened to 63 tokens shown twice: the model takes at most 128 positions (config.json)"), long.warnings.join(' | '));
  } finally {
    await m.release();
  }
});
