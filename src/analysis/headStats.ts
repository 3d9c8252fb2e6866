// Per-head statistics of attention (Clark et al. 2019; adaptive-span and Transformer-XL views),
// computed in one pass over each row of a head's [queries][keys] probabilities.
import type { LayerAttention } from './attentionCapture';
import { rowKernel, rowSpace } from './rowKernel';
import { entropyTable } from './smoothedEntropy';
import { tableLog } from './tableLog';
import { isSpecialToken } from './wordAttention';

/** Where the special and punctuation tokens are, and whether attention is causal. */
export interface TokenRoles {
  cls: Int32Array;
  sep: Int32Array;
  /** '.' and ',' as Clark et al. count them */
  punct: Int32Array;
  /**
   * Each position's most recent earlier occurrence of its token (-1 when there is none, for
   * special tokens, and for a repeat of the token just before, whose next token is the query itself)
   */
  prevOccurrence: Int32Array;
  causal: boolean;
}

export interface HeadStats {
  layer: number;
  head: number;
  toCls: number;
  toSep: number;
  toPunct: number;
  // Offsets, spans and distances are null for cross-attention: its queries and keys are
  // positions of different texts.
  toPrev: number | null;
  /** null for causal attention (the next token is masked, never attended) and for cross-attention */
  toNext: number | null;
  toSelf: number | null;
  /** attention to the first position: the attention sink of decoders (Xiao et al. 2023) */
  toFirst: number;
  /** the mass a row leaves to a sink outside the keys (smooth softmax, head sinks): 1 - its sum */
  sinkMass: number;
  /** from a repeated token to its earlier occurrence (duplicate-token heads), averaged over the repeated tokens; null when none repeats */
  toPrevOccurrence: number | null;
  /** Olsson et al.'s prefix matching: from a repeated token to the token after its earlier occurrence; null when none repeats */
  induction: number | null;
  entropyNats: number;
  uniformEntropyNats: number;
  meanDistance: number | null;
  span50: number | null;
  span90: number | null;
  span99: number | null;
  span90Max: number | null;
  labels: string[];
}

/** A self-attention head's statistics: every offset and span is a number. */
export type SelfAttentionStats = Omit<HeadStats, 'layer' | 'head' | 'labels'> & Record<'toPrev' | 'toSelf' | 'meanDistance' | 'span50' | 'span90' | 'span99' | 'span90Max', number>;

export const COVERAGES = [0.5, 0.9, 0.99] as const;
const MAX_SPAN_COVERAGE = 0.9;
// within rounding of the sums
const SPAN_COVERAGE = MAX_SPAN_COVERAGE - 1e-7;
// Clark et al.'s smoothing of each row before the entropy: 0.9999 A + 0.0001 / n.
const ENTROPY_KEEP = 0.9999;

export function tokenRoles(tokens: readonly string[], causal: boolean): TokenRoles {
  const where = (test: (t: string) => boolean): Int32Array => Int32Array.from(tokens.flatMap((t, i) => (test(t) ? [i] : [])));
  // pieces stand for ids one to one, so the same piece is the same token
  const prevOccurrence = new Int32Array(tokens.length).fill(-1);
  const last = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (isSpecialToken(t)) return;
    const k = last.get(t);
    if (k !== undefined && k < i - 1) prevOccurrence[i] = k;
    last.set(t, i);
  });
  return {
    cls: where((t) => t === '[CLS]' || t === '<s>'),
    sep: where((t) => t === '[SEP]' || t === '</s>'),
    punct: where((t) => t === '.' || t === ',' || t === 'Ġ.' || t === 'Ġ,'),
    prevOccurrence,
    causal,
  };
}

/** Attention is causal when no query puts mass on a later key (within rounding). */
export function isCausal(layers: readonly LayerAttention[]): boolean {
  for (const l of layers) {
    const n = l.keys;
    if (l.queries !== n) return false;
    for (let r = 0; r < l.heads * n; r++) {
      const i = r % n;
      const row = r * n;
      for (let j = i + 1; j < n; j++) if (l.probs[row + j] > 1e-6) return false;
    }
  }
  return true;
}

/**
 * Statistics of one head, and its offset mass: offsetMass[r + n - 1] = sum over queries of the
 * weight at key = query + r (2n - 1 entries, reused between heads).
 */
export function headStats(probs: Float32Array, offset: number, n: number, roles: TokenRoles, offsetMass: Float64Array): SelfAttentionStats {
  // Every row of a bidirectional head has n keys, so one smoothing and one table serve them all,
  // and the WebAssembly kernel runs the pass; a causal row's smoothing is its own.
  const table = roles.causal ? undefined : entropyTable(ENTROPY_KEEP, (1 - ENTROPY_KEEP) / n);
  const roleKeys = roles.cls.length + roles.sep.length + roles.punct.length;
  const space = table && rowSpace(table, n, roleKeys);
  const { row, gather } = rowKernel();
  if (space) {
    space.keys.set(roles.cls, 0);
    space.keys.set(roles.sep, roles.cls.length);
    space.keys.set(roles.punct, roles.cls.length + roles.sep.length);
  }
  // prefix[j] = mass on keys before j, for each query's 90% span by bisection
  const prefix = space ? space.pre : new Float64Array(n + 1);
  offsetMass.fill(0);
  space?.om.fill(0);
  prefix[0] = 0;
  const blockRows = space ? space.blockRows : n;
  let cls = 0;
  let sep = 0;
  let punct = 0;
  let entropy = 0;
  let uniform = 0;
  let span90Max = 0;
  let toFirst = 0;
  let missing = 0;
  let repeats = 0;
  let toPrevOccurrence = 0;
  let induction = 0;
  for (let first = 0; first < n; first += blockRows) {
    const last = Math.min(n, first + blockRows);
    if (space) space.block.set(probs.subarray(offset + first * n, offset + last * n));
    for (let i = first; i < last; i++) {
      const at = offset + i * n;
      const keys = roles.causal ? i + 1 : n;
      uniform += Math.log(keys);
      if (space) {
        const rowAt = space.blockAt + 4 * (i - first) * n;
        entropy += row(rowAt, n, space.tableAt, space.omAt + 8 * (n - 1 - i), space.preAt);
        if (roles.cls.length) cls += gather(rowAt, space.keysAt, roles.cls.length);
        if (roles.sep.length) sep += gather(rowAt, space.keysAt + 4 * roles.cls.length, roles.sep.length);
        if (roles.punct.length) punct += gather(rowAt, space.keysAt + 4 * (roles.cls.length + roles.sep.length), roles.punct.length);
      } else {
        entropy += smoothedEntropyByLog(probs, at, keys);
        const base = n - 1 - i;
        let cum = 0;
        for (let j = 0; j < keys; j++) {
          const a = probs[at + j];
          offsetMass[base + j] += a;
          prefix[j + 1] = cum += a;
        }
        for (let k = 0; k < roles.cls.length; k++) cls += probs[at + roles.cls[k]];
        for (let k = 0; k < roles.sep.length; k++) sep += probs[at + roles.sep[k]];
        for (let k = 0; k < roles.punct.length; k++) punct += probs[at + roles.punct[k]];
      }
      const cum = prefix[keys];
      toFirst += probs[at];
      missing += 1 - cum;
      const k = roles.prevOccurrence[i];
      if (k >= 0) {
        repeats++;
        toPrevOccurrence += probs[at + k];
        induction += probs[at + k + 1];
      }
      // This query's 90% span: the smallest distance d whose window [i - d, i + d] holds 0.9 of its
      // mass. Only the largest counts, so a query whose window of the largest so far holds 0.9 is done.
      if (cum >= SPAN_COVERAGE && windowMass(prefix, i, keys, span90Max) < SPAN_COVERAGE) {
        let lo = span90Max + 1;
        let hi = n - 1;
        while (lo < hi) {
          const d = (lo + hi) >> 1;
          if (windowMass(prefix, i, keys, d) >= SPAN_COVERAGE) hi = d;
          else lo = d + 1;
        }
        span90Max = lo;
      }
    }
  }
  if (space) offsetMass.set(space.om);
  // Spans of the head: the smallest distance whose mass, averaged over queries, reaches each coverage.
  const spans = [n - 1, n - 1, n - 1];
  let within = offsetMass[n - 1];
  let distanceSum = 0;
  let c = 0;
  for (let d = 0; d < n; d++) {
    if (d > 0) {
      const atD = offsetMass[n - 1 - d] + offsetMass[n - 1 + d];
      within += atD;
      distanceSum += d * atD;
    }
    while (c < COVERAGES.length && within / n >= COVERAGES[c] - 1e-7) spans[c++] = d;
  }
  return {
    toCls: cls / n,
    toSep: sep / n,
    toPunct: punct / n,
    toPrev: n > 1 ? offsetMass[n - 2] / n : 0,
    toNext: roles.causal ? null : n > 1 ? offsetMass[n] / n : 0,
    toSelf: offsetMass[n - 1] / n,
    toFirst: toFirst / n,
    // a float32 softmax's rows are within about 1e-7 of 1 (a float16 one's about 1e-3): not below 0
    sinkMass: Math.max(0, missing / n),
    // over the repeated tokens only: the others have no earlier occurrence to look at
    toPrevOccurrence: repeats ? toPrevOccurrence / repeats : null,
    induction: repeats ? induction / repeats : null,
    entropyNats: entropy / n,
    uniformEntropyNats: uniform / n,
    meanDistance: distanceSum / n,
    span50: spans[0],
    span90: spans[1],
    span99: spans[2],
    span90Max,
  };
}

/**
 * Statistics of one cross-attention head ([queries][keys] with queries of another text): what
 * its keys receive and how spread its rows are; offsets and spans do not apply.
 */
export function crossHeadStats(probs: Float32Array, offset: number, queries: number, keys: number, roles: TokenRoles): Omit<HeadStats, 'layer' | 'head' | 'labels'> {
  let cls = 0;
  let sep = 0;
  let punct = 0;
  let entropy = 0;
  let toFirst = 0;
  let missing = 0;
  for (let i = 0; i < queries; i++) {
    const at = offset + i * keys;
    let sum = 0;
    for (let j = 0; j < keys; j++) sum += probs[at + j];
    for (let k = 0; k < roles.cls.length; k++) cls += probs[at + roles.cls[k]];
    for (let k = 0; k < roles.sep.length; k++) sep += probs[at + roles.sep[k]];
    for (let k = 0; k < roles.punct.length; k++) punct += probs[at + roles.punct[k]];
    entropy += smoothedEntropyByLog(probs, at, keys);
    toFirst += probs[at];
    missing += 1 - sum;
  }
  return {
    toCls: cls / queries,
    toSep: sep / queries,
    toPunct: punct / queries,
    toPrev: null,
    toNext: null,
    toSelf: null,
    toFirst: toFirst / queries,
    sinkMass: Math.max(0, missing / queries),
    // a target token's earlier occurrence is a position of its own text, not of the keys'
    toPrevOccurrence: null,
    induction: null,
    entropyNats: entropy / queries,
    uniformEntropyNats: Math.log(keys),
    meanDistance: null,
    span50: null,
    span90: null,
    span99: null,
    span90Max: null,
  };
}

/** The mass of query i on keys [i - d, i + d], from its prefix sums. */
const windowMass = (prefix: Float64Array, i: number, keys: number, d: number): number => prefix[Math.min(i + d, keys - 1) + 1] - prefix[Math.max(i - d, 0)];

/** The smoothed entropy of a row whose smoothing is its own (a causal row has i + 1 keys). */
function smoothedEntropyByLog(probs: Float32Array, row: number, keys: number): number {
  const eps = (1 - ENTROPY_KEEP) / keys;
  let h = 0;
  for (let j = 0; j < keys; j++) {
    const p = ENTROPY_KEEP * probs[row + j] + eps;
    h -= p * tableLog(p);
  }
  return h;
}

/** Only the offset mass of a head (what headStats also accumulates), for callers that need no statistics. */
export function offsetMassOf(probs: Float32Array, offset: number, n: number, causal: boolean, offsetMass: Float64Array): Float64Array {
  offsetMass.fill(0);
  for (let i = 0; i < n; i++) {
    const row = offset + i * n;
    const keys = causal ? i + 1 : n;
    const base = n - 1 - i;
    for (let j = 0; j < keys; j++) offsetMass[base + j] += probs[row + j];
  }
  return offsetMass;
}
