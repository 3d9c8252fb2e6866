// Measured profiles kept in the extension's storage, keyed by the model's path and modification
// time (a model rewritten is profiled again), and found again from a config beside the model.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as vscode from 'vscode';
import type { MemoryProfile } from '../analysis/memoryProfile';
import { binaryBytes } from '../analysis/units';

/** What the CodeLens and hover show of a profile: each point's measured and estimated figures. */
export interface ProfileSummary {
  model: string;
  points: { n: number; batch: number; peakBytes: number; attentionBytes: number; estimatedAttentionBytes: number | null }[];
}

const KEY = 'attentionLens.profile';

const keyOf = (modelPath: string): string | undefined => {
  const st = statSync(modelPath, { throwIfNoEntry: false });
  return st ? `${KEY}:${modelPath}:${st.mtimeMs}` : undefined;
};

export function keepProfile(store: vscode.Memento, p: MemoryProfile): Thenable<void> | undefined {
  const key = keyOf(p.model);
  if (!key) return undefined;
  const summary: ProfileSummary = {
    model: p.model,
    points: p.points.map((x) => ({ n: x.n, batch: x.batch, peakBytes: x.peakBytes, attentionBytes: x.attentionBytes, estimatedAttentionBytes: x.estimate?.attentionBytes ?? null })),
  };
  return store.update(key, summary);
}

/** The profile of an ONNX model in the config's folder (or its onnx/ folder), as it is now. */
export function profileBeside(store: vscode.Memento, configPath: string): ProfileSummary | undefined {
  const folder = dirname(configPath);
  for (const dir of [folder, join(folder, 'onnx')]) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
    } catch {
      continue;
    }
    for (const name of names) {
      const key = keyOf(join(dir, name));
      const kept = key && store.get<ProfileSummary>(key);
      if (kept) return kept;
    }
  }
  return undefined;
}

/** "measured 39.8 MiB peak at n=128 (attention 512 KiB, estimate 512 KiB)": the point nearest n at batch 1. */
export function measuredLine(p: ProfileSummary, n: number): string | undefined {
  const ones = p.points.filter((x) => x.batch === 1);
  if (!ones.length) return undefined;
  const at = ones.reduce((a, b) => (Math.abs(Math.log(b.n / n)) < Math.abs(Math.log(a.n / n)) ? b : a));
  const estimate = at.estimatedAttentionBytes === null ? '' : `, estimate ${binaryBytes(at.estimatedAttentionBytes)}`;
  return `measured ${binaryBytes(at.peakBytes)} peak at n=${at.n} (attention ${binaryBytes(at.attentionBytes)}${estimate})`;
}
