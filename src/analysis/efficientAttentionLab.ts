// "If this model's dense attention were replaced by method X, what would survive?" Every method
// on every head of a capture: the pairs it computes, their share of the dense attention (recall),
// and the method against the others at an equal budget of scores.
import type { AttentionCapture, HeadVectors } from './attentionCapture';
import { isCausal, offsetMassOf, tokenRoles } from './headStats';
import { lshBuckets, lshPairs, unitRows } from './lshBuckets';
import { bandScores, fixedScores, fixedSummaryColumns, stridedScores } from './patternCounts';
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
  /** routing clusters (default round(sqrt n)), k-means iterations (default 10), optional local window */
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
  /** nearest routing cluster of every token's key */
  routing: number[];
  routingClusterSizes: number[];
  /** dense attention mass the method does not compute */
  lshMassOutside: number;
  routingMassOutside: number;
}

export interface LabResult {
  causal: boolean;
  heads: HeadMethods[];
  equalBudget: { budget: number; methods: Record<string, { params: Record<string, number>; scoresComputed: number; meanRecall: number }> };
  buckets?: HeadBuckets;
  notes: string[];
}

export const LAB_NOTES = [
  'LSH shared-QK hashes the keys for both sides and attends within sorted chunks and the chunk before, as the paper; separate Q/K lets a query attend the keys of its own bucket (the set the chunks approximate).',
  'Routing clusters queries and keys together by spherical k-means (seeded farthest-point start, batch updates instead of the paper\'s online ones), then each centroid takes its top n/k queries and keys.',
  'Adaptive span: recall counts every pair the soft mask lets through; its z is the smallest span whose mask keeps the coverage.',
];

/** Recall over the pairs a method reaches; its scores are the work it does (pairs met twice count twice). */
function computedRecall(a: HeadAttention, computed: { pairs: Uint8Array; scores: number }): PatternResult {
  return { recall: patternRecall(a, (i, j) => computed.pairs[i * a.n + j] === 1).recall, scoresComputed: computed.scores };
}

function result(method: string, params: MethodRecall['params'], r: PatternResult): MethodRecall {
  return { method, params, recall: r.recall, scoresComputed: r.scoresComputed, bytes: r.scoresComputed * FLOAT_BYTES };
}

// A parameter in [lo, hi] whose count of scores comes closest to the budget (counts rise with it).
function closestParameter(lo: number, hi: number, count: (p: number) => number, budget: number, rising = true): number {
  let best = lo;
  for (let a = lo, b = hi; a <= b; ) {
    const mid = (a + b) >> 1;
    const c = count(mid);
    if (Math.abs(c - budget) < Math.abs(count(best) - budget)) best = mid;
    if (c < budget === rising) a = mid + 1;
    else b = mid - 1;
  }
  return best;
}

function lshScores(n: number, chunk: number, hashes: number): number {
  const m = Math.ceil(n / chunk);
  const last = n - (m - 1) * chunk;
  // each chunk against itself and the one before; the last chunk may be short
  const perRound = m === 1 ? n * n : chunk * chunk + (m - 2) * 2 * chunk * chunk + last * (last + chunk);
  return hashes * perRound;
}

export function efficientAttentionLab(whole: AttentionCapture, opts: LabOptions = {}): LabResult {
  // The methods stand in for self-attention over one sequence: an encoder-decoder's encoder.
  const capture = encoderSelfAttention(whole);
  const n = capture.tokens.length;
  const causal = isCausal(capture.layers);
  const roles = tokenRoles(capture.tokens, causal);
  const sqrtN = Math.max(1, Math.round(Math.sqrt(n)));
  const window = opts.window ?? Math.min(n - 1, 4);
  const stride = opts.stride ?? Math.max(2, sqrtN);
  const block = opts.block ?? Math.max(2, sqrtN);
  const summary = opts.summary ?? fixedSummaryColumns(block);
  const ramp = opts.ramp ?? 32;
  const hashes = opts.hashes ?? 4;
  const chunk = Math.max(1, Math.min(n, opts.chunk ?? Math.max(4, Math.round(n / 16))));
  const buckets = Math.max(2, 2 * Math.round(n / chunk / 2));
  const clusters = opts.clusters ?? sqrtN;
  const iterations = opts.iterations ?? 10;
  const seed = opts.seed ?? 1;
  const global = opts.globalTokens ? roles : undefined;
  const budget = Math.max(n, Math.round(opts.budget ?? n * Math.sqrt(n)));
  const offsetMass = new Float64Array(Math.max(1, 2 * n - 1));
  const notes = [...LAB_NOTES];
  if (capture !== whole) notes.push("an encoder-decoder: the methods are compared on the encoder's self-attention; the decoder's self-attention and its cross-attention are left out");

  // Parameters at the equal budget, the same for every head (counts depend on n only).
  const eq = {
    local: closestParameter(0, n - 1, (w) => bandScores(n, w, causal), budget),
    // strided counts fall and then rise with l (local part l, strided part n / l): the falling branch
    strided: closestParameter(1, sqrtN, (l) => stridedScores(n, l, causal), budget, false),
    fixed: closestParameter(1, n, (l) => fixedScores(n, l, fixedSummaryColumns(l), causal), budget),
    adaptiveSpan: closestParameter(0, n, (z) => bandScores(n, Math.min(n - 1, z + ramp - 1), causal), budget),
    lsh: closestParameter(1, n, (c) => lshScores(n, c, hashes), budget),
    routing: closestParameter(1, n, (k) => k * Math.ceil(n / k) ** 2, budget, false),
  };
  const equalSums: Record<string, number> = Object.fromEntries(Object.keys(eq).map((k) => [k, 0]));
  const equalScores: Record<string, number> = {};

  const heads: HeadMethods[] = [];
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
      const q = kvHead(l.query, h, l.heads);
      const k = kvHead(l.key, h, l.heads);
      let lshShared: Int32Array[] | undefined;
      let route: ReturnType<typeof routing> | undefined;
      if (q !== undefined && k !== undefined && l.query && l.key) {
        const dims = l.key.dims;
        const qRows = unitRows(l.query, q);
        const kRows = unitRows(l.key, k);
        lshShared = lshBuckets(kRows, n, dims, buckets, hashes, seed);
        const lshQ = lshBuckets(qRows, n, dims, buckets, hashes, seed);
        methods.push(result('lsh', { hashes, buckets, chunk, sharedQK: true }, computedRecall(a, lshPairs(lshShared, lshShared, n, chunk, true))));
        methods.push(result('lshSeparate', { hashes, buckets, sharedQK: false }, computedRecall(a, lshPairs(lshQ, lshShared, n, chunk, false))));
        route = routing(qRows, kRows, n, dims, { clusters, iterations, seed });
        methods.push(
          result('routing', { clusters: route.queryMembers.length, iterations, ...(opts.routingWindow !== undefined ? { window: opts.routingWindow } : {}) }, computedRecall(a, routingPairs(route, n, opts.routingWindow))),
        );
        const atBudget = {
          lsh: computedRecall(a, lshPairs(lshShared, lshShared, n, eq.lsh, true)),
          routing: computedRecall(a, routingPairs(eq.routing === clusters ? route : routing(qRows, kRows, n, dims, { clusters: eq.routing, iterations, seed }), n)),
        };
        for (const [m, r] of Object.entries(atBudget)) {
          equalSums[m] += r.recall;
          equalScores[m] = r.scoresComputed;
        }
      }
      const fixedAt = [
        ['local', patternRecall(a, localPattern(eq.local))],
        ['strided', patternRecall(a, stridedPattern(eq.strided))],
        ['fixed', patternRecall(a, fixedPattern(eq.fixed, fixedSummaryColumns(eq.fixed)))],
        ['adaptiveSpan', adaptiveSpan(byDistance, n, causal, ramp, { span: eq.adaptiveSpan })],
      ] as const;
      for (const [m, r] of fixedAt) {
        equalSums[m] += r.recall;
        equalScores[m] = r.scoresComputed;
      }
      heads.push({ layer: capture.layerIndices[li], head: h, methods });
      if (opts.head && opts.head.layer === capture.layerIndices[li] && opts.head.head === h && lshShared && route) {
        const lshRecall = methods.find((m) => m.method === 'lsh')!.recall;
        const routingRecall = methods.find((m) => m.method === 'routing')!.recall;
        shown = {
          layer: opts.head.layer,
          head: h,
          lsh: lshShared.map((r) => Array.from(r)),
          lshBucketSizes: lshShared.map((r) => sizes(r, buckets)),
          routing: Array.from(route.keyCluster),
          routingClusterSizes: sizes(route.keyCluster, route.queryMembers.length),
          lshMassOutside: 1 - lshRecall,
          routingMassOutside: 1 - routingRecall,
        };
      }
    }
  });
  if (capture.layers.some((l) => !l.query || !l.key)) notes.push('queries and keys were not captured: LSH and routing are left out');
  const count = heads.length;
  const params: Record<string, Record<string, number>> = {
    local: { window: eq.local },
    strided: { stride: eq.strided },
    fixed: { block: eq.fixed, summary: fixedSummaryColumns(eq.fixed) },
    adaptiveSpan: { span: eq.adaptiveSpan, ramp },
    lsh: { chunk: eq.lsh, hashes },
    routing: { clusters: eq.routing },
  };
  const equalBudget: LabResult['equalBudget'] = { budget, methods: {} };
  for (const m of Object.keys(eq)) {
    if (equalScores[m] === undefined) continue;
    equalBudget.methods[m] = { params: params[m], scoresComputed: equalScores[m], meanRecall: count ? equalSums[m] / count : 0 };
  }
  if (opts.head && !shown) notes.push(`no buckets for head ${opts.head.layer}:${opts.head.head}: not captured, or its queries and keys were not`);
  return { causal, heads, equalBudget, buckets: shown, notes };
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
