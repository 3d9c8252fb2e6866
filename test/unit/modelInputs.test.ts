import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concreteDims, inputPlan } from '../../src/model/modelInputs';

test('inputs get their roles from name, type and shape; a cache goes forward through its present output', () => {
  const plan = inputPlan(
    [
      { name: 'input_ids', type: 'int32', shape: ['batch', 'sequence'] },
      { name: 'attention_mask', type: 'int32', shape: ['batch', 'total'] },
      { name: 'position_ids', type: 'int64', shape: ['batch', 'sequence'] },
      { name: 'past_key_values.0.key', type: 'float32', shape: ['batch', 4, 'past', 16] },
    ],
    ['logits', 'present.0.key'],
  );
  assert.deepEqual(plan.inputs.map((i) => i.role), ['ids', 'mask', 'position', 'past']);
  assert.equal(plan.inputs[3].presentOutput, 'present.0.key');
  assert.deepEqual(plan.mode, { kind: 'whole' });
  assert.deepEqual(concreteDims(plan.inputs[3], plan, 5, 0), [1, 4, 0, 16]);
  assert.deepEqual(concreteDims(plan.inputs[1], plan, 5, 3), [1, 8]);
});

test('one token per run with a cache is stepwise; a fixed length is padded', () => {
  const stepwise = inputPlan(
    [
      { name: 'input_ids', type: 'int64', shape: ['batch_size', 1] },
      { name: 'past_0', type: 'float32', shape: [2, 'batch_size', 2, 'seq_len', 2] },
    ],
    ['last_state', 'present_0'],
  );
  assert.deepEqual(stepwise.mode, { kind: 'stepwise' });
  assert.deepEqual(concreteDims(stepwise.inputs[1], stepwise, 1, 3), [2, 1, 2, 3, 2]);
  const fixed = inputPlan([{ name: 'input_ids', type: 'int32', shape: ['batch', 7] }], ['out']);
  assert.deepEqual(fixed.mode, { kind: 'fixed', length: 7 });
});

test('inputs that cannot be filled are named', () => {
  assert.throws(() => inputPlan([{ name: 'input_ids', type: 'int64', shape: ['b', 's'] }, { name: 'image_sizes', type: 'float32', shape: ['b', 3, 224, 's'] }], []), /inputs Attention Lens cannot fill: image_sizes \(float32 \[b, 3, 224, s\]\)/);
  assert.throws(
    () => inputPlan([{ name: 'input_ids', type: 'int64', shape: ['b', 1] }, { name: 'past', type: 'float32', shape: [2, 'b', 2, 'p', 2] }], ['out']),
    /no output carries input past forward/,
  );
});

test("a Whisper encoder's features are an input of their own; raw audio, an image encoder and a model fed embeddings are refused with the reason", () => {
  const whisper = inputPlan([{ name: 'input_features', type: 'float32', shape: ['batch', 80, 3000] }], ['last_hidden_state']);
  assert.deepEqual([whisper.inputs[0].role, whisper.mode.kind], ['features', 'whole'], 'its 3000 frames are not a fixed token length');
  assert.throws(() => inputPlan([{ name: 'input_values', type: 'float32', shape: ['batch', 'samples'] }], ['last_hidden_state']), /input_values takes raw audio samples, not token ids/);
  assert.throws(() => inputPlan([{ name: 'pixel_values', type: 'float32', shape: ['batch', 3, 224, 224] }], ['logits']), /pixel_values takes image pixels, not token ids/);
  assert.throws(() => inputPlan([{ name: 'inputs_embeds', type: 'float32', shape: ['batch', 'sequence', 64] }], ['logits']), /only text input is inputs_embeds/);
});
