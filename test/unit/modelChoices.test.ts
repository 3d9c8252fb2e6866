// Files chosen for a model (a tokenizer, an audio encoder's features), remembered per model while
// they exist; and which models read features instead of a text.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Memento } from 'vscode';
import { FEATURES_KEY, TOKENIZERS_KEY, rememberFile, rememberedFile, takesFeatures } from '../../src/editor/modelChoices';

function memento(): Memento {
  const kept = new Map<string, unknown>();
  return { keys: () => [...kept.keys()], get: (k: string, fallback?: unknown) => (kept.has(k) ? kept.get(k) : fallback), update: async (k: string, v: unknown) => void kept.set(k, v) } as Memento;
}

test("a features file is remembered per model, apart from its tokenizer and other models', and forgotten once it is gone", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attention-lens-choices-'));
  const [features, other, tokenizer] = ['mel.npy', 'other.npy', 'tokenizer.json'].map((f) => join(dir, f));
  for (const f of [features, other, tokenizer]) writeFileSync(f, 'x');
  const store = memento();
  assert.equal(rememberedFile(store, FEATURES_KEY, '/models/whisper'), undefined, 'nothing chosen yet');
  await rememberFile(store, FEATURES_KEY, '/models/whisper', features);
  await rememberFile(store, FEATURES_KEY, '/models/whisper-small', other);
  await rememberFile(store, TOKENIZERS_KEY, '/models/whisper', tokenizer);
  assert.equal(rememberedFile(store, FEATURES_KEY, '/models/whisper'), features);
  assert.equal(rememberedFile(store, FEATURES_KEY, '/models/whisper-small'), other);
  assert.equal(rememberedFile(store, TOKENIZERS_KEY, '/models/whisper'), tokenizer);
  await rememberFile(store, FEATURES_KEY, '/models/whisper', other);
  assert.equal(rememberedFile(store, FEATURES_KEY, '/models/whisper'), other, 'the last choice wins');
  rmSync(other);
  assert.equal(rememberedFile(store, FEATURES_KEY, '/models/whisper'), undefined, 'a file since removed is asked for again');
});

test('a model reads features when one of its inputs has the features role', () => {
  const input = (name: string, role: string) => ({ name, role, type: 'float32', shape: [1, 80, 'frames'] });
  assert.equal(takesFeatures({ inputs: [input('input_features', 'features')] }), true);
  assert.equal(takesFeatures({ inputs: [input('input_ids', 'ids'), input('attention_mask', 'mask')] }), false);
});
