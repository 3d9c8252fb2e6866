// "If this model's dense attention were replaced by method X, what would survive?" Every method
// on every head of a capture: the pairs it computes, their share of the dense attention (recall),
// and the method against the others at an equal budget of scores.
import type { AttentionCapture, HeadVectors, LayerAttention } from './attentionCapture';
import { isCausal, offsetMassOf, tokenRoles } from './headStats';
import { lshBuckets, lshPairs, unitRows } from './lshBuckets';
import { BUDGET_METHODS, BudgetContext, HeadForBudget, curveBudgets, headAtBudget, methodSettings, recallOver } from './methodBudget';
import { fixedSummaryColumns } from './patternCounts';
import { routing, routingPairs } from './routingClusters';
import {
  HeadAttention,
  PatternResult,
  adaptiveSpan,
  fixedPattern,
  localPattern,
  massByDistance,
  patternRecall,
  stridedPattern,
  withGlobal,
} from './sparsePatterns';

const FLOAT_BYTES = 4;

export interface LabOptions {
  window?: number;
  stride?: number;
  block?: number;
  summary?: number;
  /** adaptive span: a span z for every head, or (default) each head's z for this coverage */
  span?: number;
  coverage?: number;
  ramp?: number;
  hashes?: number;
  chunk?: number;
  /** routing clusters (default: the fewest within the budget, about sqrt n), k-means iterations (default 10), optional local window */
  clusters?: number;
  iterations?: number;
  routingWindow?: number;
  /** [CLS]/[SEP] attend and are attended everywhere under the fixed patterns */
  globalTokens?: boolean;
  seed?: number;
  /** scores per head for the equal-budget comparison (default n sqrt n) */
  budget?: number;
  /** the head whose buckets and clusters are returned for display */
  head?: { layer: number; head: number };
}

export interface MethodRecall {
  method: string;
  params: Record<string, number | boolean>;
  recall: number;
  scoresComputed: number;
  bytes: number;
}

export interface HeadMethods {
  layer: number;
  head: number;
  methods: MethodRecall[];
}

export interface HeadBuckets {
  layer: number;
  head: number;
  /** LSH bucket of every token in every round (shared-QK: the keys' buckets) */
  lsh: number[][];
  lshBucketSizes: number[][];
  /** nearest routing centroid of every token's key (for display) */
  routing: number[];
  /** keys nearest each centroid: the raw assignment, before balancing */
  routingNearestSizes: number[];
  /** keys each cluster takes once balanced (its top ceil(n / k) by similarity, as the paper does) */
  routingClusterSizes: number[];
  /** dense attention mass the method does not compute */
  lshMassOutside: number;
  routingMassOutside: number;
}

/** A method at the equal budget, over heads: its mean recall and the scores it computed per head. */
export interface BudgetedMethod {
  params: Record<string, number>;
  meanRecall: number;
  /** mean and largest over heads of the scores computed per head */
  scoresComputed: number;
  maxScoresComputed: number;
  /** false: the method cannot meet the budget at this n (shown at its cheapest setting, never ranked) */
  withinBudget: boolean;
}

/** Mean recall of each method at budgets from n to n^2 / 4, over a sample of heads; null where it cannot meet the budget. */
export interface BudgetCurves {
  budgets: number[];
  heads: { layer: number; head: number }[];
  methods: Record<string, { meanRecall: (number | null)[]; scoresComputed: (number | null)[] }>;
}

export interface LabResult {
  causal: boolean;
  heads: HeadMethods[];
  equalBudget: { budget: number; methods: Record<string, BudgetedMethod>; /** the methods within the budget, best mean recall first */ ranking: string[] };
  budgetCurves: BudgetCurves;
  buckets?: HeadBuckets;
  notes: string[];
}

export const LAB_NOTES = [
  'LSH shared-QK hashes the keys for both sides and attends within sorted chunks and the chunk before, as the paper; separate Q/K lets a query attend the keys of its own bucket (the set the chunks approximate).',
  'Routing clusters queries and keys together by spherical k-means (seeded farthest-point start, batch updates instead of the paper\'s online ones), then each centroid takes its top n/k queries and keys.',
  'Adaptive span: recall counts every pair the soft mask lets through; its z is the smallest span whose mask keeps the coverage, and its ramp R is part of what it computes.',
  'At equal budget every method is tuned so that each head computes at most the budget (separate-QK LSH by its bucket count, head by head); a method whose cheapest setting computes more cannot meet the budget at this n: it is shown at that setting and not ranked.',
];

function result(method: string, params: MethodRecall['params'], r: PatternResult): MethodRecall {
  return { method, params, recall: r.recall, scoresComputed: r.scoresComputed, bytes: r.scoresComputed * FLOAT_BYTES };
}

// Adaptive span's ramp (Sukhbaatar et al. use R = 32); below n = 4R it is scaled to n / 4, or the
// ramp alone would reach every key of a short text.
const SPAN_RAMP = 32;

// The recall-vs-budget curves: budgets, and heads sampled evenly over the model. Each point tunes
// and runs every method on each head, k-means and hashing included, and their cost grows with n^2
// (routing within n scores per head is n clusters): fewer heads at long n.
const CURVE_POINTS = 8;
const curveHeads = (n: number): number => Math.max(4, Math.min(12, Math.round(12 * (128 / n) ** 2)));

/** What the lab derives from the capture's self-attention and its options, the LSH and routing settings that headBuckets shares. */
interface LabSettings {
  n: number;
  causal: boolean;
  budget: number;
  chunk: number;
  clusters: number;
  routingWindow?: number;
  ctx: BudgetContext;
  atBudget: ReturnType<typeof methodSettings>;
}

/** `causal` where the caller knows it: finding it reads every head's upper triangle. */
function labSettings(capture: AttentionCapture, opts: LabOptions, causal = isCausal(capture.layers)): LabSettings {
  const n = capture.tokens.length;
  const ramp = opts.ramp ?? Math.max(1, Math.min(SPAN_RAMP, Math.floor(n / 4)));
  const chunk = Math.max(1, Math.min(n, opts.chunk ?? Math.max(4, Math.round(n / 16))));
  const buckets = Math.max(2, 2 * Math.round(n / chunk / 2));
  const budget = Math.max(n, Math.round(opts.budget ?? n * Math.sqrt(n)));
  const ctx: BudgetContext = { n, causal, ramp, hashes: opts.hashes ?? 4, buckets, iterations: opts.iterations ?? 10, seed: opts.seed ?? 1 };
  // k-means is most of the lab's time: by default the table's routing is the equal budget's, run once
  const atBudget = methodSettings(ctx, budget);
  return { n, causal, budget, chunk, clusters: opts.clusters ?? atBudget.routing.params.clusters, routingWindow: opts.routingWindow, ctx, atBudget };
}

/** One head's shared-QK LSH buckets and routing clusters, and the recall of each: what the lab's table and its buckets share. */
interface HeadHashing {
  queries: Float32Array;
  keys: Float32Array;
  dims: number;
  lshShared: Int32Array[];
  route: ReturnType<typeof routing>;
  lsh: PatternResult;
  routed: PatternResult;
}

/** Head h's hashing and routing; undefined when its queries and keys were not captured. */
function headHashing(l: LayerAttention, h: number, a: HeadAttention, s: LabSettings): HeadHashing | undefined {
  const q = kvHead(l.query, h, l.heads);
  const k = kvHead(l.key, h, l.heads);
  if (q === undefined || k === undefined || !l.query || !l.key) return undefined;
  const { n, chunk, clusters, ctx } = s;
  const dims = l.key.dims;
  const queries = unitRows(l.query, q);
  const keys = unitRows(l.key, k);
  const lshShared = lshBuckets(keys, n, dims, ctx.buckets, ctx.hashes, ctx.seed);
  const route = routing(queries, keys, n, dims, { clusters, iterations: ctx.iterations, seed: ctx.seed });
  const lsh = recallOver(a, lshPairs(lshShared, lshShared, n, chunk, true));
  return { queries, keys, dims, lshShared, route, lsh, routed: recallOver(a, routingPairs(route, n, s.routingWindow)) };
}

/** What the buckets view shows of a head's hashing: each token's bucket and cluster, their sizes, and the mass each method leaves out. */
function bucketsOf(layer: number, head: number, x: HeadHashing, buckets: number): HeadBuckets {
  return {
    layer,
    head,
    lsh: x.lshShared.map((r) => Array.from(r)),
    lshBucketSizes: x.lshShared.map((r) => sizes(r, buckets)),
    routing: Array.from(x.route.keyCluster),
    routingNearestSizes: sizes(x.route.keyCluster, x.route.queryMembers.length),
    routingClusterSizes: x.route.keyMembers.map((m) => m.length),
    lshMassOutside: 1 - x.lsh.recall,
    routingMassOutside: 1 - x.routed.recall,
  };
}

/**
 * One head's LSH buckets and routing clusters under the lab's settings for these options, as the
 * lab shows them for `opts.head`: `layer` is the layer's place among the captured layers, the
 * result's layer the model's index. Undefined for a head out of range, a layer that is not
 * self-attention over the source (an encoder-decoder's decoder and cross-attention), or one
 * captured without its queries and keys. `causal`, as the capture's analysis found it, spares
 * reading the attention again.
 */
export function headBuckets(whole: AttentionCapture, layer: number, head: number, opts: LabOptions = {}, causal?: boolean): HeadBuckets | undefined {
  const l = whole.layers[layer];
  if (!l || head >= l.heads || (l.part !== undefined && l.part !== 'encoder')) return undefined;
  const capture = encoderSelfAttention(whole);
  const s = labSettings(capture, opts, causal ?? isCausal(capture.layers));
  const hashed = headHashing(l, head, { probs: l.probs, offset: head * s.n * s.n, n: s.n, causal: s.causal }, s);
  return hashed && bucketsOf(whole.layerIndices[layer], head, hashed, s.ctx.buckets);
}

export function efficientAttentionLab(whole: AttentionCapture, opts: LabOptions = {}): LabResult {
  // The methods stand in for self-attention over one sequence: an encoder-decoder's encoder.
  const capture = encoderSelfAttention(whole);
  const settings = labSettings(capture, opts);
  const { n, causal, budget, chunk, clusters, ctx, atBudget } = settings;
  const { ramp, hashes, buckets, iterations } = ctx;
  const roles = tokenRoles(capture.tokens, causal);
  const sqrtN = Math.max(1, Math.round(Math.sqrt(n)));
  const window = opts.window ?? Math.min(n - 1, 4);
  const stride = opts.stride ?? Math.max(2, sqrtN);
  const block = opts.block ?? Math.max(2, sqrtN);
  const summary = opts.summary ?? fixedSummaryColumns(block);
  const global = opts.globalTokens ? roles : undefined;
  const offsetMass = new Float64Array(Math.max(1, 2 * n - 1));
  const notes = [...LAB_NOTES];
  if (capture !== whole) notes.push("an encoder-decoder: the methods are compared on the encoder's self-attention; the decoder's self-attention and its cross-attention are left out");
  if (opts.ramp === undefined && ramp < SPAN_RAMP) notes.push(`adaptive span's ramp R is ${ramp} (n / 4) instead of ${SPAN_RAMP}: at n = ${n} a ramp of ${SPAN_RAMP} would reach every key`);

  const heads: HeadMethods[] = [];
  const budgeted: HeadForBudget[] = [];
  const defaultRouting: { clusters: number; routing: ReturnType<typeof routing> }[] = [];
  let shown: HeadBuckets | undefined;
  capture.layers.forEach((l, li) => {
    for (let h = 0; h < l.heads; h++) {
      const a: HeadAttention = { probs: l.probs, offset: h * n * n, n, causal };
      const byDistance = massByDistance(offsetMassOf(l.probs, h * n * n, n, causal, offsetMass), n);
      const span = adaptiveSpan(byDistance, n, causal, ramp, { span: opts.span, coverage: opts.coverage });
      const methods: MethodRecall[] = [
        result('local', { window, global: !!global }, patternRecall(a, withGlobal(localPattern(window), global))),
        result('strided', { stride, global: !!global }, patternRecall(a, withGlobal(stridedPattern(stride), global))),
        result('fixed', { block, summary, global: !!global }, patternRecall(a, withGlobal(fixedPattern(block, summary), global))),
        result('adaptiveSpan', { span: span.span, ramp, massKept: span.massKept }, span),
      ];
      const head: HeadForBudget = { attention: a, byDistance };
      const hashed = headHashing(l, h, a, settings);
      if (hashed) {
        const { queries, keys, dims, lshShared, route } = hashed;
        const lshQ = lshBuckets(queries, n, dims, buckets, hashes, ctx.seed);
        const separate = recallOver(a, lshPairs(lshQ, lshShared, n, chunk, false));
        head.vectors = { queries, keys, dims, sharedBuckets: lshShared, separate: { buckets, scores: separate.scoresComputed } };
        methods.push(result('lsh', { hashes, buckets, chunk, sharedQK: true }, hashed.lsh));
        methods.push(result('lshSeparate', { hashes, buckets, sharedQK: false }, separate));
        defaultRouting[budgeted.length] = { clusters, routing: route };
        methods.push(result('routing', { clusters: route.queryMembers.length, iterations, ...(opts.routingWindow !== undefined ? { window: opts.routingWindow } : {}) }, hashed.routed));
        if (opts.head && opts.head.layer === capture.layerIndices[li] && opts.head.head === h) shown = bucketsOf(opts.head.layer, h, hashed, buckets);
      }
      heads.push({ layer: capture.layerIndices[li], head: h, methods });
      budgeted.push(head);
    }
  });
  if (capture.layers.some((l) => !l.query || !l.key)) notes.push('queries and keys were not captured: LSH and routing are left out');

  const equal = methodsAtBudget(ctx, budgeted, budget, atBudget, defaultRouting);
  const ranking = Object.entries(equal)
    .filter(([, m]) => m.withinBudget)
    .sort((x, y) => y[1].meanRecall - x[1].meanRecall)
    .map(([name]) => name);
  const budgets = curveBudgets(n, CURVE_POINTS);
  const sample = sampledHeads(budgeted.length, curveHeads(n));
  const curves: BudgetCurves = { budgets, heads: sample.map((i) => ({ layer: heads[i].layer, head: heads[i].head })), methods: {} };
  budgets.forEach((b, at) => {
    const point = methodsAtBudget(ctx, sample.map((i) => budgeted[i]), b, methodSettings(ctx, b), sample.map((i) => defaultRouting[i]));
    for (const [name, m] of Object.entries(point)) {
      const curve = (curves.methods[name] ??= { meanRecall: budgets.map(() => null), scoresComputed: budgets.map(() => null) });
      if (!m.withinBudget) continue;
      curve.meanRecall[at] = m.meanRecall;
      curve.scoresComputed[at] = m.scoresComputed;
    }
  });
  if (sample.length < budgeted.length) notes.push(`the recall-vs-budget curves average ${sample.length} of the ${budgeted.length} heads, spread evenly over the layers`);
  if (opts.head && !shown) notes.push(`no buckets for head ${opts.head.layer}:${opts.head.head}: not captured, or its queries and keys were not`);
  return { causal, heads, equalBudget: { budget, methods: equal, ranking }, budgetCurves: curves, buckets: shown, notes };
}

/** Each method tuned to the budget on these heads: mean recall, scores per head, and whether every head is within the budget. */
function methodsAtBudget(
  ctx: BudgetContext,
  heads: HeadForBudget[],
  budget: number,
  settings: ReturnType<typeof methodSettings>,
  routed: ({ clusters: number; routing: ReturnType<typeof routing> } | undefined)[],
): Record<string, BudgetedMethod> {
  const sums: Record<string, { recall: number; scores: number; max: number; within: boolean; params: Record<string, number>; count: number }> = {};
  heads.forEach((head, i) => {
    for (const [name, r] of Object.entries(headAtBudget(ctx, head, settings, budget, routed[i]))) {
      const s = (sums[name] ??= { recall: 0, scores: 0, max: 0, within: true, params: r.params, count: 0 });
      s.recall += r.recall;
      s.scores += r.scoresComputed;
      s.max = Math.max(s.max, r.scoresComputed);
      s.within &&= r.withinBudget;
      s.count++;
      // separate-QK LSH is set per head: the largest bucket count any head needed
      if (name === 'lshSeparate' && r.params.buckets > s.params.buckets) s.params = r.params;
    }
  });
  const out: Record<string, BudgetedMethod> = {};
  for (const name of BUDGET_METHODS) {
    const s = sums[name];
    if (s) out[name] = { params: s.params, meanRecall: s.recall / s.count, scoresComputed: s.scores / s.count, maxScoresComputed: s.max, withinBudget: s.within };
  }
  return out;
}

/** At most `most` of `count` indices, spread evenly from the first to the last. */
function sampledHeads(count: number, most: number): number[] {
  if (count <= most) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: most }, (_, i) => Math.round((i * (count - 1)) / (most - 1)));
}

/** The capture's self-attention over its source tokens: all of it, or an encoder-decoder's encoder layers. */
function encoderSelfAttention(capture: AttentionCapture): AttentionCapture {
  if (!capture.layers.some((l) => l.part)) return capture;
  const keep = capture.layers.flatMap((l, i) => (l.part === 'encoder' ? [i] : []));
  return { ...capture, target: undefined, layers: keep.map((i) => capture.layers[i]), layerIndices: keep.map((i) => capture.layerIndices[i]) };
}

/** The query/key head that serves attention head h (grouped-query attention shares them). */
function kvHead(v: HeadVectors | undefined, h: number, heads: number): number | undefined {
  if (!v) return undefined;
  return Math.floor(h / Math.max(1, heads / v.heads));
}

function sizes(ids: Int32Array, count: number): number[] {
  const out = new Array<number>(count).fill(0);
  for (const b of ids) out[b]++;
  return out;
}
