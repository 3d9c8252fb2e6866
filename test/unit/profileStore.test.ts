// Profiles kept by model path and modification time, found from a config beside the model, and
// the CodeLens's measured line.
import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Memento } from 'vscode';
import type { MemoryProfile } from '../../src/analysis/memoryProfile';
import { keepProfile, measuredLine, profileBeside } from '../../src/editor/profileStore';

function memento(): Memento {
  const kept = new Map<string, unknown>();
  return { keys: () => [...kept.keys()], get: (k: string) => kept.get(k), update: async (k: string, v: unknown) => void kept.set(k, v) } as Memento;
}

test('a kept profile is found beside its config until the model changes, and says the measured figure at the nearest n', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attention-lens-store-'));
  const model = join(dir, 'model.onnx');
  writeFileSync(model, 'x');
  const point = (n: number, peakBytes: number, attentionBytes: number) => ({ n, batch: 1, peakBytes, attentionBytes, estimate: { attentionBytes: attentionBytes * 0.97, kvCacheBytes: 0 } });
  const profile = { model, points: [point(256, 200 * 2 ** 20, 2 ** 20), point(512, 412 * 2 ** 20, 4 * 2 ** 20)] } as unknown as MemoryProfile;
  const store = memento();
  await keepProfile(store, profile);
  const kept = profileBeside(store, join(dir, 'config.json'))!;
  assert.equal(measuredLine(kept, 500), 'measured 412 MiB peak at n=512 (attention 4 MiB, estimate 3.88 MiB)');
  assert.equal(measuredLine(kept, 300), 'measured 200 MiB peak at n=256 (attention 1 MiB, estimate 993.28 KiB)');
  utimesSync(model, new Date(), new Date(Date.now() + 5000));
  assert.equal(profileBeside(store, join(dir, 'config.json')), undefined, 'a rewritten model is profiled again');
});
