// A memory profile's sweep, run from the host point by point in the engine: each point's peak
// predicted before it runs (from the points measured, or the estimate for the first) and the
// sweep stopped, with the numbers, when it would not fit; a point that fails, or an engine that
// dies, ends the sweep with the points measured kept.
import { MemoryProfile, PointEstimate, ProfilePoint, TimelineStep, comparedPoint, defaultLengths, fusedProbabilities, predictedPeakBytes, profileFits } from '../analysis/memoryProfile';
import { binaryBytes } from '../analysis/units';
import type { LoadOptions } from '../model/capture';
import type { ProfileTarget } from '../model/profiledRun';
import { EngineClient, EngineError } from './engineClient';

export interface SweepOptions {
  load: LoadOptions;
  /** sequence lengths; powers of two from 16 to the model's positions when absent */
  lengths?: number[];
  batches?: number[];
  text?: string;
  seed?: number;
  memPattern?: boolean;
  /** each point run on the capture's tapped copy as well */
  tapped?: boolean;
  /** the model's facts for the sweep, asked of the engine once */
  target: ProfileTarget;
  /** the memory the sweep may use; a point predicted past it is not run */
  budgetBytes: number;
  budgetFrom: string;
  /** a length to extrapolate to besides the model's positions */
  extrapolateTo?: number;
  /** the estimator's prediction at a point; queries: the positions the run computes (1 for a decoder's step) */
  estimate: (n: number, batch: number, queries: number) => PointEstimate | undefined;
  /** hears each point before it runs (the progress notification names it) */
  onPoint?: (index: number, total: number, n: number, batch: number) => void;
}

/** The first point's guess: the weights and the estimated probabilities, doubled for the scores beside them. */
const firstGuessBytes = (target: ProfileTarget, e: PointEstimate | undefined): number => target.weightsBytes + 2 * (e?.attentionBytes ?? 0) + (e?.kvCacheBytes ?? 0);

export async function profileSweep(engine: EngineClient, o: SweepOptions): Promise<MemoryProfile> {
  const { target } = o;
  const lengths = o.lengths ?? defaultLengths(target.maxPositions);
  const batches = o.batches ?? [1];
  const plan = batches.flatMap((batch) => lengths.map((n) => ({ n, batch })));
  const points: ProfilePoint[] = [];
  let timeline: { n: number; batch: number; steps: TimelineStep[] } = { n: 0, batch: 0, steps: [] };
  let provider = o.load.executionProvider as string;
  let stopped: string | undefined;
  const notes: string[] = [];
  let freshEngines = false;
  const queriesPerRun = (n: number): number => (target.sequenceMode === 'stepwise' ? 1 : n);
  for (const [i, { n, batch }] of plan.entries()) {
    const predicted = predictedPeakBytes(points, n, batch, firstGuessBytes(target, o.estimate(n, batch, queriesPerRun(n))));
    if (predicted > o.budgetBytes) {
      stopped = `stopped before n = ${n}, batch ${batch}: its peak is predicted at ${binaryBytes(predicted)}, more than the ${binaryBytes(o.budgetBytes)} the sweep may use (${o.budgetFrom})`;
      break;
    }
    o.onPoint?.(i, plan.length, n, batch);
    try {
      const r = await engine.profile({ load: o.load, input: { n, batch, text: o.text, seed: o.seed, memPattern: o.memPattern ?? true, ...(o.tapped ? { tapped: true } : {}) } });
      provider = r.executionProvider;
      points.push(comparedPoint(r.point, o.estimate(n, batch, r.queries)));
      if (n * batch >= timeline.n * timeline.batch) timeline = { n, batch, steps: r.timeline };
      // where the engine cannot reset its peak, each point starts a fresh one
      if (!r.rssReset) {
        engine.dispose();
        freshEngines = true;
      }
    } catch (e) {
      if (e instanceof EngineError && e.kind === 'cancelled' && points.length === 0) throw e;
      stopped = `n = ${n}, batch ${batch} failed: ${(e as Error).message}`;
      break;
    }
  }
  const separated = fusedProbabilities(points, target.sequenceMode === 'stepwise');
  points.splice(0, points.length, ...separated.points);
  if (separated.note) notes.push(separated.note);
  if (freshEngines) notes.push('VmHWM could not be reset (/proc/self/clear_refs): each point ran in a fresh engine process');
  const fits = profileFits(points, target.maxPositions, o.extrapolateTo, o.budgetBytes);
  if (target.sequenceMode === 'stepwise') notes.push('the model takes one token per run: each point is the step at position n, after a past of n - 1 (its attention is one query row per head)');
  if (target.attentionLayers === 0) notes.push('no attention was found in the graph: nothing is counted as attention');
  return {
    model: target.path,
    executionProvider: provider,
    // the sessions are made as every run of the extension makes them (ONNX Runtime's defaults), the memory pattern on unless asked
    settings: { memPattern: o.memPattern ?? true, cpuArena: true },
    input: o.text !== undefined ? 'the text repeated to n tokens' : `seeded random ids (seed ${o.seed ?? 0})`,
    maxPositions: target.maxPositions,
    points,
    fit: fits.fit,
    extrapolations: fits.extrapolations,
    budget: { bytes: o.budgetBytes, from: o.budgetFrom, fitsUpTo: fits.fitsUpTo },
    ...(stopped ? { stopped } : {}),
    timeline,
    notes,
  };
}
