// A measured memory profile: the points of a sweep over sequence lengths and batch sizes, how
// each figure grows with n, and the estimator's prediction beside each point. Pure: the engine
// measures, the estimate comes in as numbers.
import { GrowthFit, fittedAt, fitsUpTo, growthFit } from './growthFit';
import type { ProviderMemory, TraceOperator } from './profileTrace';

/** What the estimator predicts for one point (inference mode, the model's dtype). */
export interface PointEstimate {
  /** the attention probabilities of every layer */
  attentionBytes: number;
  kvCacheBytes: number;
  /** the estimator's inference peak (weights, cache, one layer's scores and activations), where it knows the weights */
  peakBytes?: number;
}

/** One operator as a point lists it: the top ones by memory and by time. */
export type ProfiledOperator = Pick<TraceOperator, 'node' | 'op' | 'durationMs' | 'outputBytes' | 'attention'>;

/** A step of the timeline: memory in use after each operator, in execution order. */
export type TimelineStep = Pick<TraceOperator, 'node' | 'op' | 'inUseBytes' | 'outputBytes' | 'durationMs' | 'attention' | 'inputShapes' | 'outputShapes'>;

export interface ProfilePoint {
  n: number;
  batch: number;
  /** the profiled run's wall time, as the engine timed it */
  wallMs: number;
  /** the allocator's peak in use (the main provider's: the GPU's on CUDA), weights included */
  peakBytes: number;
  arenaBytes: number;
  /** the engine process's peak resident memory over the run (VmHWM, reset before it) */
  rssBytes: number | null;
  /** in use before the first operator: weights and inputs */
  weightsBytes: number;
  /**
   * the attention probabilities: every layer's softmax output; for a fused op, the part of its
   * kernel's scratch that grows as n^2 over the sweep (see fusedProbabilities), or all of it
   */
  attentionBytes: number;
  /** everything the fused attention kernels allocated inside themselves (probabilities and working copies), summed over layers */
  fusedScratchBytes?: number;
  /** the same point on the capture's tapped copy (every layer's probabilities as outputs), where asked for: what analysing costs on top */
  tapped?: { peakBytes: number; wallMs: number; rssBytes: number | null };
  /** every attention operator's output: scores, mask steps, probabilities, probabilities x V */
  attentionOperatorBytes: number;
  /** the outputs of every other operator */
  otherActivationBytes: number;
  /** the key/value cache the run reads (a decoder's past), in bytes */
  kvCacheBytes: number;
  attentionMs: number;
  operatorMs: number;
  providers: ProviderMemory[];
  operators: { byBytes: ProfiledOperator[]; byTime: ProfiledOperator[] };
  estimate?: PointEstimate;
  /** (measured - estimated) / estimated, in percent */
  errorPercent?: { attention: number | null; kvCache: number | null; peak?: number | null };
  /** the terms that differ by more than 10% from the estimate, in words */
  differences?: string[];
}

export type ProfileFitKey = 'peakBytes' | 'attentionBytes' | 'otherActivationBytes' | 'wallMs';

export interface Extrapolation {
  n: number;
  peakBytes: number;
  attentionBytes: number;
  wallMs: number;
  /** beyond the longest n measured */
  extrapolated: boolean;
}

export interface MemoryProfile {
  model: string;
  executionProvider: string;
  /** the session's memory settings the runs used */
  settings: { memPattern: boolean; cpuArena: boolean };
  input: string;
  maxPositions: number | null;
  points: ProfilePoint[];
  /** per figure, its fit over the points of the first batch size */
  fit: Record<ProfileFitKey, GrowthFit>;
  extrapolations: Extrapolation[];
  budget: { bytes: number; from: string; fitsUpTo: number | null };
  /** why the sweep ended before its last point, when it did */
  stopped?: string;
  /** the run of the largest point, operator by operator */
  timeline: { n: number; batch: number; steps: TimelineStep[] };
  notes: string[];
}

const DIFFERENCE_PERCENT = 10;

const percent = (measured: number, estimated: number): number | null => (estimated > 0 ? ((measured - estimated) / estimated) * 100 : measured > 0 ? null : 0);

/** The point with the estimate beside it: the error of each term and, past 10%, which. */
export function comparedPoint(p: ProfilePoint, e: PointEstimate | undefined): ProfilePoint {
  if (!e) return p;
  const errorPercent = {
    attention: percent(p.attentionBytes, e.attentionBytes),
    kvCache: percent(p.kvCacheBytes, e.kvCacheBytes),
    ...(e.peakBytes === undefined ? {} : { peak: percent(p.peakBytes, e.peakBytes) }),
  };
  const differences: string[] = [];
  const say = (what: string, err: number | null, measured: number, estimated: number): void => {
    if (err === null || Math.abs(err) > DIFFERENCE_PERCENT) differences.push(`${what}: measured ${measured} bytes, estimated ${estimated}${err === null ? '' : ` (${err > 0 ? '+' : ''}${err.toFixed(1)}%)`}`);
  };
  say('attention probabilities', errorPercent.attention, p.attentionBytes, e.attentionBytes);
  say('key/value cache', errorPercent.kvCache, p.kvCacheBytes, e.kvCacheBytes);
  if (e.peakBytes !== undefined) say('total peak', errorPercent.peak ?? null, p.peakBytes, e.peakBytes);
  return { ...p, estimate: e, errorPercent, ...(differences.length ? { differences } : {}) };
}

/**
 * A fused kernel's probabilities, told apart from its working copies of Q, K, V and the output:
 * what it allocates is a polynomial in n (ONNX Runtime's kernels allocate exact sizes, so the
 * least-squares fit is exact) whose term in queries x keys is the probabilities: n^2 for a whole
 * sequence, n for one token per run after a past (its copies of that token do not grow), fitted
 * over the points of each batch size. Where a batch has too few lengths (three; two for steps),
 * the whole scratch stays counted, and said. Each point is compared with its estimate again.
 */
export function fusedProbabilities(points: readonly ProfilePoint[], stepwise: boolean): { points: ProfilePoint[]; note?: string } {
  const fused = points.filter((p) => p.fusedScratchBytes !== undefined);
  if (fused.length === 0) return { points: [...points] };
  const batches = [...new Set(fused.map((p) => p.batch))];
  const perPosition = new Map<number, (n: number) => number>();
  for (const batch of batches) {
    const same = fused.filter((p) => p.batch === batch);
    if (new Set(same.map((p) => p.n)).size < (stepwise ? 2 : 3)) continue;
    const f = growthFit(same.map((p) => p.n), same.map((p) => p.fusedScratchBytes!));
    perPosition.set(batch, stepwise ? (n) => Math.max(0, f.b) * n : (n) => Math.max(0, f.c) * n * n);
  }
  const separated = points.map((p) => {
    const term = perPosition.get(p.batch);
    if (p.fusedScratchBytes === undefined || term === undefined) return p;
    // softmaxes of layers left unfused stay counted beside the fused ones
    const next: ProfilePoint = { ...p, attentionBytes: p.attentionBytes - p.fusedScratchBytes + Math.round(term(p.n)) };
    delete next.differences;
    return comparedPoint(next, p.estimate);
  });
  const note =
    perPosition.size === batches.length
      ? `the fused kernel's probabilities: the part of what it allocates that grows as ${stepwise ? 'n (one query row after a past of n - 1)' : 'n^2'}, fitted over the sweep; the rest is its working copies of Q, K, V and the output (fusedScratchBytes holds all of it)`
      : `the fused kernel's probabilities could not be told apart from its working copies (too few lengths): attentionBytes counts all of its scratch`;
  return { points: separated, note };
}

/** Powers of two from 16 up to the model's positions (1024 at most where it states none, 8192 at most where it does), and that limit itself. */
export function defaultLengths(maxPositions: number | null): number[] {
  const top = maxPositions === null ? 1024 : Math.min(maxPositions, 8192);
  const ns: number[] = [];
  for (let n = 16; n <= top; n *= 2) ns.push(n);
  if (ns.length === 0) ns.push(top);
  return ns;
}

/**
 * The peak a point will need, predicted before it runs: from the last point measured at its batch
 * size (or another's), its probabilities scaled as n^2 and its other activations as n, both with
 * the batch, its weights as they are; past three points, the quadratic fit where it says more.
 * With no point measured, the first guess (from the estimate).
 */
export function predictedPeakBytes(points: readonly ProfilePoint[], n: number, batch: number, firstGuessBytes: number): number {
  const same = points.filter((p) => p.batch === batch);
  const last = (same.length ? same : points).at(-1);
  if (!last) return firstGuessBytes;
  const r = n / last.n;
  const k = batch / last.batch;
  const activations = Math.max(0, last.peakBytes - last.weightsBytes - last.attentionBytes);
  const scaled = last.weightsBytes + activations * r * k + last.attentionBytes * r * r * k;
  if (same.length < 3) return scaled;
  return Math.max(scaled, fittedAt(growthFit(same.map((p) => p.n), same.map((p) => p.peakBytes)), n));
}

/** The fits, extrapolations and budget line of a sweep's points. */
export function profileFits(points: readonly ProfilePoint[], maxPositions: number | null, askedN: number | undefined, budgetBytes: number): Pick<MemoryProfile, 'fit' | 'extrapolations'> & { fitsUpTo: number | null } {
  const batch = points[0]?.batch;
  const first = points.filter((p) => p.batch === batch);
  const ns = first.map((p) => p.n);
  const fitOf = (k: ProfileFitKey): GrowthFit => growthFit(ns, first.map((p) => p[k]));
  const fit = { peakBytes: fitOf('peakBytes'), attentionBytes: fitOf('attentionBytes'), otherActivationBytes: fitOf('otherActivationBytes'), wallMs: fitOf('wallMs') };
  const longest = Math.max(0, ...ns);
  const targets = [...new Set([maxPositions, askedN].filter((n): n is number => n !== null && n !== undefined && n > 0))].sort((a, b) => a - b);
  const extrapolations = targets.map((n) => ({
    n,
    peakBytes: fittedAt(fit.peakBytes, n),
    attentionBytes: fittedAt(fit.attentionBytes, n),
    wallMs: fittedAt(fit.wallMs, n),
    extrapolated: n > longest,
  }));
  const limit = Math.max(maxPositions ?? 0, askedN ?? 0, longest, 1);
  return { fit, extrapolations, fitsUpTo: first.length ? fitsUpTo(fit.peakBytes, budgetBytes, limit) : null };
}
