// The efficient-attention methods tuned to a budget of scores per head: each method's parameters
// searched so that the scores it computes on every head are at most the budget. A method that
// cannot get under the budget at this n (its cheapest setting computes more) is said to, and is
// evaluated at that cheapest setting so that what it would cost is still shown.
import { lshBuckets, lshPairs } from './lshBuckets';
import { bandScores, fixedScores, fixedSummaryColumns, stridedScores } from './patternCounts';
import { routing, routingPairs } from './routingClusters';
import { HeadAttention, PatternResult, adaptiveSpan, fixedPattern, localPattern, patternRecall, stridedPattern } from './sparsePatterns';

export const BUDGET_METHODS = ['local', 'strided', 'fixed', 'adaptiveSpan', 'lsh', 'lshSeparate', 'routing'] as const;
export type BudgetMethod = (typeof BUDGET_METHODS)[number];

/** A method's setting at a budget: its parameters, and whether they keep it within the budget. */
export interface MethodSetting {
  params: Record<string, number>;
  /** false: even the cheapest setting computes more scores than the budget at this n */
  withinBudget: boolean;
}

/** One head's recall and scores under a method at its setting, and whether they are within the budget. */
export interface BudgetedRecall extends PatternResult {
  params: Record<string, number>;
  withinBudget: boolean;
}

/** What a head offers the methods: its attention, its mass by distance, and its unit queries and keys when captured. */
export interface HeadForBudget {
  attention: HeadAttention;
  byDistance: Float64Array;
  vectors?: {
    queries: Float32Array;
    keys: Float32Array;
    dims: number;
    sharedBuckets: Int32Array[];
    /** separate-QK LSH already run on the head: with this many buckets it computed this many scores */
    separate: { buckets: number; scores: number };
  };
}

export interface BudgetContext {
  n: number;
  causal: boolean;
  ramp: number;
  hashes: number;
  /** buckets of the shared-QK hashing (the chunks, not the buckets, set its cost) */
  buckets: number;
  iterations: number;
  seed: number;
}

/**
 * The parameter in [lo, hi] whose count of scores is largest without exceeding the budget (the
 * counts need not be monotone in it), or, when none is within, the cheapest one.
 */
function searched(lo: number, hi: number, count: (p: number) => number, budget: number): { value: number; withinBudget: boolean } {
  let best: number | undefined;
  let bestCount = -Infinity;
  let cheapest = lo;
  let cheapestCount = Infinity;
  for (let p = lo; p <= hi; p++) {
    const c = count(p);
    if (c <= budget && c > bestCount) [best, bestCount] = [p, c];
    if (c < cheapestCount) [cheapest, cheapestCount] = [p, c];
  }
  return best === undefined ? { value: cheapest, withinBudget: false } : { value: best, withinBudget: true };
}

/** Scores of shared-QK LSH: per round each sorted chunk against itself and the one before (the last may be short). */
function lshScores(n: number, chunk: number, hashes: number): number {
  const m = Math.ceil(n / chunk);
  const last = n - (m - 1) * chunk;
  const perRound = m === 1 ? n * n : chunk * chunk + (m - 2) * 2 * chunk * chunk + last * (last + chunk);
  return hashes * perRound;
}

/** Scores of balanced routing with k clusters: each takes ceil(n / k) queries and as many keys. */
const routingScores = (n: number, k: number): number => k * Math.ceil(n / k) ** 2;

/** The settings at a budget of the methods whose cost depends on n alone (all but separate-QK LSH, set per head). */
export function methodSettings(ctx: BudgetContext, budget: number): Record<Exclude<BudgetMethod, 'lshSeparate'>, MethodSetting> {
  const { n, causal, ramp } = ctx;
  const local = searched(0, n - 1, (w) => bandScores(n, w, causal), budget);
  const strided = searched(1, n, (l) => stridedScores(n, l, causal), budget);
  const fixed = searched(1, n, (l) => fixedScores(n, l, fixedSummaryColumns(l), causal), budget);
  // the ramp is part of adaptive span's cost: keys up to z + R - 1 away have a non-zero mask
  const span = searched(0, n, (z) => bandScores(n, Math.min(n - 1, z + ramp - 1), causal), budget);
  // rounds and chunk length together: the most scores within the budget, more rounds on a tie
  let lsh = { chunk: 1, hashes: 1, withinBudget: false, scores: Infinity };
  for (let h = ctx.hashes; h >= 1; h--) {
    const c = searched(1, n, (chunk) => lshScores(n, chunk, h), budget);
    const scores = lshScores(n, c.value, h);
    const better = c.withinBudget ? !lsh.withinBudget || scores > lsh.scores : !lsh.withinBudget && scores < lsh.scores;
    if (better) lsh = { chunk: c.value, hashes: h, withinBudget: c.withinBudget, scores };
  }
  const route = searched(1, n, (k) => routingScores(n, k), budget);
  return {
    local: { params: { window: local.value }, withinBudget: local.withinBudget },
    strided: { params: { stride: strided.value }, withinBudget: strided.withinBudget },
    fixed: { params: { block: fixed.value, summary: fixedSummaryColumns(fixed.value) }, withinBudget: fixed.withinBudget },
    adaptiveSpan: { params: { span: span.value, ramp }, withinBudget: span.withinBudget },
    lsh: { params: { chunk: lsh.chunk, hashes: lsh.hashes }, withinBudget: lsh.withinBudget },
    routing: { params: { clusters: route.value }, withinBudget: route.withinBudget },
  };
}

// Separate-QK LSH's scores depend on how the head's vectors fall into buckets: the bucket count is
// first scaled from a run on the same head (scores fall about as 1 / buckets), then raised until
// the head is within the budget, up to one bucket per position.
const SEPARATE_TRIES = 4;

/** Separate-QK LSH on one head at a budget: its bucket count and result, within the budget or at n buckets. */
function separateLshAt(ctx: BudgetContext, head: HeadForBudget, budget: number): BudgetedRecall {
  const { hashes } = ctx;
  const { n } = ctx;
  const v = head.vectors!;
  const even = (b: number): number => Math.max(2, Math.min(n + (n % 2), 2 * Math.ceil(b / 2)));
  let buckets = even((v.separate.buckets * v.separate.scores) / budget);
  let last: (BudgetedRecall) | undefined;
  for (let t = 0; t < SEPARATE_TRIES; t++) {
    const keys = lshBuckets(v.keys, n, v.dims, buckets, hashes, ctx.seed);
    const computed = lshPairs(lshBuckets(v.queries, n, v.dims, buckets, hashes, ctx.seed), keys, n, 0, false);
    last = { ...recallOver(head.attention, computed), params: { buckets, hashes }, withinBudget: computed.scores <= budget };
    const most = even(n);
    if (last.withinBudget || buckets >= most) break;
    buckets = even(Math.min(most, buckets * Math.max(1.25, (1.1 * computed.scores) / budget)));
  }
  return last!;
}

/** Recall over the pairs a method reaches; its scores are the work it does (pairs met twice count twice). */
export function recallOver(a: HeadAttention, computed: { pairs: Uint8Array; scores: number }): PatternResult {
  return { recall: patternRecall(a, (i, j) => computed.pairs[i * a.n + j] === 1).recall, scoresComputed: computed.scores };
}

/**
 * Every method on one head at its setting for the budget (separate-QK LSH searched on the head
 * itself); the methods that need queries and keys are left out without them. `routed` is a
 * routing already run with some cluster count, reused when the setting asks for the same.
 */
export function headAtBudget(
  ctx: BudgetContext,
  head: HeadForBudget,
  settings: ReturnType<typeof methodSettings>,
  budget: number,
  routed?: { clusters: number; routing: ReturnType<typeof routing> },
): Partial<Record<BudgetMethod, BudgetedRecall>> {
  const a = head.attention;
  const { n, causal } = ctx;
  const p = (m: keyof typeof settings): Record<string, number> => settings[m].params;
  const at = (m: keyof typeof settings, r: PatternResult): BudgetedRecall => ({ ...r, params: p(m), withinBudget: settings[m].withinBudget });
  const out: Partial<Record<BudgetMethod, BudgetedRecall>> = {
    local: at('local', patternRecall(a, localPattern(p('local').window))),
    strided: at('strided', patternRecall(a, stridedPattern(p('strided').stride))),
    fixed: at('fixed', patternRecall(a, fixedPattern(p('fixed').block, p('fixed').summary))),
    adaptiveSpan: at('adaptiveSpan', adaptiveSpan(head.byDistance, n, causal, ctx.ramp, { span: p('adaptiveSpan').span })),
  };
  const v = head.vectors;
  if (v) {
    const { chunk, hashes } = p('lsh');
    const rounds = v.sharedBuckets.slice(0, hashes);
    out.lsh = at('lsh', recallOver(a, lshPairs(rounds, rounds, n, chunk, true)));
    out.lshSeparate = separateLshAt(ctx, head, budget);
    const k = p('routing').clusters;
    const r = routed?.clusters === k ? routed.routing : routing(v.queries, v.keys, n, v.dims, { clusters: k, iterations: ctx.iterations, seed: ctx.seed });
    out.routing = at('routing', recallOver(a, routingPairs(r, n)));
  }
  return out;
}

/** Budgets for the recall-vs-budget curves: from n to n^2 / 4, evenly on a log scale, whole numbers, no repeats. */
export function curveBudgets(n: number, points: number): number[] {
  const hi = Math.max(n, Math.floor((n * n) / 4));
  const out = new Set<number>();
  for (let i = 0; i < points; i++) out.add(Math.round(n * (hi / n) ** (points > 1 ? i / (points - 1) : 0)));
  return [...out];
}
