// The whole head analysis of a capture (or of a corpus of captures): per-head statistics and
// labels, relative-offset profiles, head distances and their 2-D embedding, attention rollout and flow.
import { AttentionCapture, LayerAttention, Side, layerTokens } from './attentionCapture';
import { AttentionRollout, captureRollout } from './attentionRollout';
import { HEAD_DISTANCE_NS_PER_WORK, HeadMap, headDistanceWork, headGroups, headMap, headMapOf } from './headDistance';
import { headLabels } from './headLabels';
import { HEAD_STAT_KEYS } from './headStatKeys';
import { HeadStats, TokenRoles, crossHeadStats, headStats, isCausal, tokenRoles } from './headStats';
import { isSpecialToken, wordIndices, wordLabels, wordLevelLayer } from './wordAttention';

export interface AnalysisOptions {
  /** offsets profiled: [-R, R]; default min(n - 1, 256) */
  maxOffset?: number;
  headDistance?: boolean;
  /** leave the head distances out when they would take longer than this on `threads` (seconds) */
  headDistanceSeconds?: number;
  /** the threads the head distances run on (the engine's pool), for their time */
  threads?: number;
  wordLevel?: boolean;
  /** leave attention flow out above this much flowWork (default FLOW_WORK_BUDGET) */
  flowBudget?: number;
  /** leave rollout and flow out: a corpus keeps its first text's only */
  noRollout?: boolean;
}

export interface AttentionAnalysis {
  causal: boolean;
  /** the positions (tokens, or words) the statistics were computed over: an encoder-decoder's source */
  positions: number;
  heads: HeadStats[];
  /** mean weight per head at each offset; NaN (null in JSON) for a cross-attention head */
  relative: { offsets: number[]; profile: number[][] };
  headDistance?: HeadMap;
  /** head distances left out for their cost: their work (headDistanceWork) and about how long they take on the threads */
  headDistanceSkipped?: { work: number; seconds: number };
  /** attention rollout and flow of each self-attention stack, between pieces; a corpus's is its first text's */
  rollout?: AttentionRollout;
  /** texts averaged, in corpus mode */
  texts: number;
}

/** What one layer's statistics are computed over: its queries and keys, the keys' token roles, the offsets profiled. */
export interface LayerPlan {
  /** queries (tokens or words); the keys are as many unless the layer is cross-attention */
  n: number;
  keys: number;
  cross: boolean;
  roles: TokenRoles;
  offsets: number[];
}

/** What a capture's statistics are computed over: its layers (or their word-level forms) and each layer's plan. */
export interface AnalysisPlan {
  layers: LayerAttention[];
  /** the capture's own layers, between pieces (`layers` are between words with wordLevel): what the rollout multiplies */
  captured: LayerAttention[];
  layerIndices: number[];
  layerPlans: LayerPlan[];
  causal: boolean;
}

/** The statistics and offset profiles of one layer's heads, in head order. */
export interface LayerHeadStats {
  heads: HeadStats[];
  profile: number[][];
}

export function analysisPlan(capture: AttentionCapture, opts: AnalysisOptions = {}): AnalysisPlan {
  // each text's pieces, or its words: an encoder-decoder has two
  const units = new Map<Side, { word?: Int32Array; tokens: string[] }>();
  const unitsOf = (side: Side): { word?: Int32Array; tokens: string[] } => {
    if (!units.has(side)) {
      const word = opts.wordLevel ? wordIndices(side.tokens, side.offsets, (i) => isSpecialToken(side.tokens[i])) : undefined;
      units.set(side, { word, tokens: word ? wordLabels(side.tokens, word) : side.tokens });
    }
    return units.get(side)!;
  };
  const sides = capture.layers.map((l) => layerTokens(capture, l.part));
  const layers = capture.layers.map((l, i) => {
    const [q, k] = [unitsOf(sides[i].queries), unitsOf(sides[i].keys)];
    return q.word && k.word ? wordLevelLayer(l, q.word, k.word) : l;
  });
  // one profile of offsets for every self-attention layer, as far as the shortest text reaches
  const selfQueries = layers.filter((l) => l.part !== 'cross').map((l) => l.queries);
  const R = Math.max(0, Math.min(Math.min(...selfQueries) - 1, opts.maxOffset ?? 256));
  const offsets = Array.from({ length: 2 * R + 1 }, (_, k) => k - R);
  // per part (an encoder-decoder's three, or the one of other models): causality and the keys' roles
  const rolesOf = new Map<string, TokenRoles>();
  const layerPlans = layers.map((l, i): LayerPlan => {
    const part = l.part ?? 'self';
    const cross = part === 'cross';
    if (!rolesOf.has(part)) rolesOf.set(part, tokenRoles(unitsOf(sides[i].keys).tokens, !cross && isCausal(layers.filter((m) => (m.part ?? 'self') === part))));
    return { n: l.queries, keys: l.keys, cross, roles: rolesOf.get(part)!, offsets };
  });
  const causal = [...rolesOf.entries()].every(([part, r]) => part === 'cross' || r.causal);
  return { layers, captured: capture.layers, layerIndices: capture.layerIndices, layerPlans, causal };
}

/** Every head of one layer: its statistics, labels and mean weight at each profiled offset. */
export function layerHeadStats(layer: LayerAttention, layerIndex: number, plan: LayerPlan): LayerHeadStats {
  const { n, keys, roles, offsets } = plan;
  const result: LayerHeadStats = { heads: [], profile: [] };
  if (plan.cross) {
    for (let h = 0; h < layer.heads; h++) {
      const s = crossHeadStats(layer.probs, h * n * keys, n, keys, roles);
      result.heads.push({ layer: layerIndex, head: h, ...s, labels: headLabels(s, keys) });
      // offsets do not apply to cross-attention: NaN (null in JSON) at each
      result.profile.push(offsets.map(() => NaN));
    }
    return result;
  }
  const offsetMass = new Float64Array(Math.max(1, 2 * n - 1));
  for (let h = 0; h < layer.heads; h++) {
    const s = headStats(layer.probs, h * n * n, n, roles, offsetMass);
    result.heads.push({ layer: layerIndex, head: h, ...s, labels: headLabels(s, n) });
    result.profile.push(offsets.map((r) => offsetMass[r + n - 1] / (n - Math.abs(r))));
  }
  return result;
}

/** What a plan's head distances cost (headDistanceWork over its groups). */
function planHeadDistanceWork(plan: AnalysisPlan): number {
  return headGroups(plan.layers, plan.causal).reduce((sum, g) => sum + headDistanceWork(g.heads, g.queries, g.keys, g.causal), 0);
}

/** About how long head distances of this work take on `threads` threads. */
const headDistanceSeconds = (work: number, threads = 1): number => (work * HEAD_DISTANCE_NS_PER_WORK) / 1e9 / Math.max(1, threads);

/** Whether analysisOf gives the head distances: asked for, and within the time allowed. */
export function headDistanceWanted(plan: AnalysisPlan, opts: AnalysisOptions = {}): boolean {
  return opts.headDistance !== false && !(opts.headDistanceSeconds !== undefined && headDistanceSeconds(planHeadDistanceWork(plan), opts.threads) > opts.headDistanceSeconds);
}

/**
 * The analysis of a plan from its layers' statistics (computed here or elsewhere), with the head
 * distances: `headDistance` where they were computed elsewhere (the engine's threads), else here.
 */
export function analysisOf(plan: AnalysisPlan, perLayer: readonly LayerHeadStats[], opts: AnalysisOptions = {}, headDistance?: HeadMap): AttentionAnalysis {
  const { causal } = plan;
  const offsets = plan.layerPlans.find((p) => !p.cross)?.offsets ?? [];
  const analysis: AttentionAnalysis = {
    causal,
    positions: plan.layerPlans[0]?.keys ?? 0,
    heads: perLayer.flatMap((l) => l.heads),
    relative: { offsets, profile: perLayer.flatMap((l) => l.profile) },
    ...(opts.noRollout ? {} : { rollout: captureRollout(plan.captured, plan.layerIndices, opts.flowBudget) }),
    texts: 1,
  };
  if (headDistanceWanted(plan, opts)) analysis.headDistance = headDistance ?? headMap(plan.layers, causal);
  else if (opts.headDistance !== false) {
    const work = planHeadDistanceWork(plan);
    analysis.headDistanceSkipped = { work, seconds: headDistanceSeconds(work, opts.threads) };
  }
  return analysis;
}

export function analyzeCapture(capture: AttentionCapture, opts: AnalysisOptions = {}): AttentionAnalysis {
  const plan = analysisPlan(capture, opts);
  return analysisOf(
    plan,
    plan.layers.map((l, i) => layerHeadStats(l, plan.layerIndices[i], plan.layerPlans[i])),
    opts,
  );
}

/**
 * A corpus: statistics and profiles averaged over texts (as Clark et al. do), head distances
 * summed over all their queries; labels from the averaged statistics.
 */
export function corpusAnalysis(parts: readonly AttentionAnalysis[]): AttentionAnalysis {
  if (parts.length === 0) throw new Error('no texts to combine');
  const first = parts[0];
  const R = Math.min(...parts.map((p) => (p.relative.offsets.length - 1) / 2));
  const offsets = Array.from({ length: 2 * R + 1 }, (_, k) => k - R);
  const meanPositions = parts.reduce((s, p) => s + p.positions, 0) / parts.length;
  const heads = first.heads.map((h0, k) => {
    const avg = { ...h0 } as HeadStats;
    for (const key of HEAD_STAT_KEYS) {
      // over the texts where it applies: a text without a repeated token has no induction score
      const values = parts.map((p) => p.heads[k][key]).filter((v): v is number => v !== null);
      (avg as unknown as Record<string, number | null>)[key] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    }
    avg.labels = headLabels(avg, Math.round(meanPositions));
    return avg;
  });
  const profile = first.heads.map((_, k) =>
    offsets.map((r) => {
      const at = parts.map((p) => p.relative.profile[k][r + (p.relative.offsets.length - 1) / 2]);
      return at.reduce((a, b) => a + b, 0) / parts.length;
    }),
  );
  const result: AttentionAnalysis = { causal: parts.every((p) => p.causal), positions: meanPositions, heads, relative: { offsets, profile }, texts: parts.length };
  // texts of different lengths have rollouts of different sizes, which do not average
  if (first.rollout) result.rollout = { ...first.rollout, notes: [...first.rollout.notes, `of the first text only: the ${parts.length} texts' rollouts are not averaged (their lengths differ)`] };
  if (parts.every((p) => p.headDistance)) {
    const count = heads.length;
    const jsd = new Float64Array(count * count);
    for (const p of parts) p.headDistance!.jsd.forEach((row, a) => row.forEach((v, b) => (jsd[a * count + b] += v)));
    result.headDistance = headMapOf(jsd, count);
  } else if (parts.some((p) => p.headDistanceSkipped)) {
    const skipped = parts.map((p) => p.headDistanceSkipped ?? { work: 0, seconds: 0 });
    result.headDistanceSkipped = { work: skipped.reduce((sum, p) => sum + p.work, 0), seconds: skipped.reduce((sum, p) => sum + p.seconds, 0) };
  }
  return result;
}
