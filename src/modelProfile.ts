// A model's memory profile as the editor and the CLI both run it: the sweep in the engine, with
// the estimator's prediction (from the config beside the model) at every point.
import { freemem } from 'node:os';
import { basename } from 'node:path';
import type { MemoryProfile } from './analysis/memoryProfile';
import type { EngineClient } from './engine/engineClient';
import { profileSweep } from './engine/profileSweep';
import { profileEstimator } from './memory/profileEstimate';
import type { ExecutionProviderChoice } from './model/executionProviders';
import { readUserText } from './model/userFiles';

/** configPath: the config beside the model that the estimate read, where there is one */
export type ModelProfile = MemoryProfile & { estimateSource: string; configPath?: string };

/** The sweep of a model with the estimate beside it, as the editor and the CLI both run it. */
export async function modelProfile(
  engine: EngineClient,
  o: { model: string; ep: ExecutionProviderChoice; lengths?: number[]; batches?: number[]; text?: string; seed?: number; memPattern?: boolean; tapped?: boolean; budgetBytes?: number; extrapolateTo?: number },
  onPoint?: (index: number, total: number, n: number, batch: number) => void,
): Promise<ModelProfile> {
  const load = { model: o.model, executionProvider: o.ep };
  const target = await engine.profileTarget(load);
  const configText = target.configPath ? readUserText(target.configPath, 'config') : undefined;
  const estimator = profileEstimator(configText, target.configPath ? basename(target.configPath) : '', target.floatType === 'float16' ? 'fp16' : 'fp32', {
    hasPast: target.hasPast,
    fusedOp: target.fusedOp,
    dims: target.graphDims,
  });
  const profile = await profileSweep(engine, {
    load,
    target,
    lengths: o.lengths,
    batches: o.batches,
    text: o.text,
    seed: o.seed,
    memPattern: o.memPattern,
    tapped: o.tapped,
    budgetBytes: o.budgetBytes ?? freemem(),
    budgetFrom: o.budgetBytes === undefined ? "the machine's free memory" : 'the budget set',
    extrapolateTo: o.extrapolateTo,
    estimate: estimator.estimate,
    onPoint,
  });
  return { ...profile, estimateSource: estimator.source, ...(target.configPath ? { configPath: target.configPath } : {}) };
}

