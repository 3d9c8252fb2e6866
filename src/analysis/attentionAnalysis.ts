// The whole head analysis of a capture (or of a corpus of captures): per-head statistics and
// labels, relative-offset profiles, head distances and their 2-D embedding.
import type { AttentionCapture, LayerAttention } from './attentionCapture';
import { HeadMap, headDistanceWork, headMap, headMapOf } from './headDistance';
import { headLabels } from './headLabels';
import { HEAD_STAT_KEYS } from './headStatKeys';
import { HeadStats, TokenRoles, headStats, isCausal, tokenRoles } from './headStats';
import { isSpecialToken, wordIndices, wordLabels, wordLevelLayer } from './wordAttention';

export interface AnalysisOptions {
  /** offsets profiled: [-R, R]; default min(n - 1, 256) */
  maxOffset?: number;
  headDistance?: boolean;
  /** leave the head distances out when they would cost more than this (headDistanceWork) */
  headDistanceBudget?: number;
  wordLevel?: boolean;
}

export interface AttentionAnalysis {
  causal: boolean;
  /** tokens (or words) the statistics were computed over */
  units: number;
  heads: HeadStats[];
  relative: { offsets: number[]; profile: number[][] };
  headDistance?: HeadMap;
  /** head distances left out for their cost */
  headDistanceSkipped?: { work: number };
  /** texts averaged, in corpus mode */
  texts: number;
}

/** The layers and token roles that a capture is analysed over: its pieces, or its words. */
function analysedLayers(capture: AttentionCapture, wordLevel: boolean): { layers: LayerAttention[]; tokens: string[] } {
  if (!wordLevel) return { layers: capture.layers, tokens: capture.tokens };
  const word = wordIndices(capture.tokens, capture.offsets, (i) => isSpecialToken(capture.tokens[i]));
  const tokens = wordLabels(capture.tokens, word);
  return { layers: capture.layers.map((l) => wordLevelLayer(l, word)), tokens };
}

/** What a capture's statistics are computed over: its layers (or their word-level forms), token roles, the offsets profiled. */
export interface AnalysisPlan {
  layers: LayerAttention[];
  layerIndices: number[];
  n: number;
  roles: TokenRoles;
  offsets: number[];
}

/** The statistics and offset profiles of one layer's heads, in head order. */
export interface LayerHeadStats {
  heads: HeadStats[];
  profile: number[][];
}

export function analysisPlan(capture: AttentionCapture, opts: AnalysisOptions = {}): AnalysisPlan {
  const { layers, tokens } = analysedLayers(capture, !!opts.wordLevel);
  const n = tokens.length;
  const R = Math.max(0, Math.min(n - 1, opts.maxOffset ?? 256));
  return {
    layers,
    layerIndices: capture.layerIndices,
    n,
    roles: tokenRoles(tokens, isCausal(layers)),
    offsets: Array.from({ length: 2 * R + 1 }, (_, k) => k - R),
  };
}

/** Every head of one layer: its statistics, labels and mean weight at each profiled offset. */
export function layerHeadStats(layer: LayerAttention, layerIndex: number, plan: Pick<AnalysisPlan, 'n' | 'roles' | 'offsets'>): LayerHeadStats {
  const { n, roles, offsets } = plan;
  const offsetMass = new Float64Array(Math.max(1, 2 * n - 1));
  const result: LayerHeadStats = { heads: [], profile: [] };
  for (let h = 0; h < layer.heads; h++) {
    const s = headStats(layer.probs, h * n * n, n, roles, offsetMass);
    result.heads.push({ layer: layerIndex, head: h, ...s, labels: headLabels(s, n) });
    result.profile.push(offsets.map((r) => offsetMass[r + n - 1] / (n - Math.abs(r))));
  }
  return result;
}

/** The analysis of a plan from its layers' statistics (computed here or elsewhere), with the head distances. */
export function analysisOf(plan: AnalysisPlan, perLayer: readonly LayerHeadStats[], opts: AnalysisOptions = {}): AttentionAnalysis {
  const { causal } = plan.roles;
  const analysis: AttentionAnalysis = {
    causal,
    units: plan.n,
    heads: perLayer.flatMap((l) => l.heads),
    relative: { offsets: plan.offsets, profile: perLayer.flatMap((l) => l.profile) },
    texts: 1,
  };
  if (opts.headDistance !== false) {
    const work = headDistanceWork(analysis.heads.length, plan.n, causal);
    if (opts.headDistanceBudget !== undefined && work > opts.headDistanceBudget) analysis.headDistanceSkipped = { work };
    else analysis.headDistance = headMap(plan.layers, causal);
  }
  return analysis;
}

export function analyzeCapture(capture: AttentionCapture, opts: AnalysisOptions = {}): AttentionAnalysis {
  const plan = analysisPlan(capture, opts);
  return analysisOf(
    plan,
    plan.layers.map((l, i) => layerHeadStats(l, plan.layerIndices[i], plan)),
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
  const meanUnits = parts.reduce((s, p) => s + p.units, 0) / parts.length;
  const heads = first.heads.map((h0, k) => {
    const avg = { ...h0 } as HeadStats;
    for (const key of HEAD_STAT_KEYS) {
      const values = parts.map((p) => p.heads[k][key]);
      (avg as unknown as Record<string, number | null>)[key] = values.some((v) => v === null) ? null : (values as number[]).reduce((a, b) => a + b, 0) / parts.length;
    }
    avg.labels = headLabels(avg, Math.round(meanUnits));
    return avg;
  });
  const profile = first.heads.map((_, k) =>
    offsets.map((r) => {
      const at = parts.map((p) => p.relative.profile[k][r + (p.relative.offsets.length - 1) / 2]);
      return at.reduce((a, b) => a + b, 0) / parts.length;
    }),
  );
  const result: AttentionAnalysis = { causal: parts.every((p) => p.causal), units: meanUnits, heads, relative: { offsets, profile }, texts: parts.length };
  if (parts.every((p) => p.headDistance)) {
    const count = heads.length;
    const jsd = new Float64Array(count * count);
    for (const p of parts) p.headDistance!.jsd.forEach((row, a) => row.forEach((v, b) => (jsd[a * count + b] += v)));
    result.headDistance = headMapOf(jsd, count);
  } else if (parts.some((p) => p.headDistanceSkipped)) {
    result.headDistanceSkipped = { work: parts.reduce((sum, p) => sum + (p.headDistanceSkipped?.work ?? 0), 0) };
  }
  return result;
}
