// What a view of a capture receives: summaries first, one head's matrix when asked.
import type { AttentionAnalysis } from './attentionAnalysis';
import { AttentionCapture, Side, layerTexts, layerTokens } from './attentionCapture';
import { attentionTile } from './attentionTiles';
import type { HeadTile, TokenRows } from '../protocol';
import { isSpecialToken, wordIndices, wordLabels, wordLevelLayer } from './wordAttention';
import type { LabResult } from './efficientAttentionLab';

/** The first message of a view: names, tokens and the small results; no matrices. */
export function captureSummary(modelPath: string, capture: AttentionCapture, analysis?: AttentionAnalysis, lab?: LabResult) {
  return {
    modelPath,
    executionProvider: capture.executionProvider,
    ...(capture.executionProviderLine ? { executionProviderLine: capture.executionProviderLine } : {}),
    tokens: capture.tokens,
    offsets: capture.offsets,
    ...(capture.target ? { target: { tokens: capture.target.tokens, offsets: capture.target.offsets } } : {}),
    ...(capture.probe ? { probe: capture.probe } : {}),
    ...(capture.predictions ? { predictions: capture.predictions } : {}),
    layers: capture.layers.map((l, i) => ({ index: capture.layerIndices[i], name: l.name, heads: l.heads, ...(l.part ? { part: l.part } : {}) })),
    warnings: capture.warnings,
    ...(analysis
      ? {
          analysis: {
            causal: analysis.causal,
            heads: analysis.heads,
            relative: analysis.relative,
            texts: analysis.texts,
            ...(analysis.headDistance ? { headDistance: { embedding: analysis.headDistance.embedding } } : {}),
            ...(analysis.headDistanceSkipped ? { headDistanceSkipped: { seconds: analysis.headDistanceSkipped.seconds } } : {}),
            ...(analysis.rollout ? { rollout: analysis.rollout } : {}),
          },
        }
      : {}),
    ...(lab
      ? {
          lab: {
            heads: lab.heads.map((h) => ({ layer: h.layer, head: h.head, methods: h.methods.map((m) => ({ method: m.method, recall: m.recall, scoresComputed: m.scoresComputed })) })),
            equalBudget: lab.equalBudget,
            budgetCurves: lab.budgetCurves,
            ...(lab.buckets ? { buckets: lab.buckets } : {}),
            notes: lab.notes,
          },
        }
      : {}),
  };
}

/** One head of a captured layer ([queries][keys], a copy), or undefined when out of range. */
export function headMatrix(capture: AttentionCapture, layer: number, head: number) {
  const l = capture.layers[layer];
  if (!l || head >= l.heads) return undefined;
  const size = l.queries * l.keys;
  return { layer, head, queries: l.queries, keys: l.keys, probs: l.probs.slice(head * size, (head + 1) * size) };
}

/** A window of one head as a tile, the window clamped to the matrix; undefined when out of range. */
export function headTile(capture: AttentionCapture, layer: number, head: number, q0: number, q1: number, k0: number, k1: number, maxCells: number) {
  const l = capture.layers[layer];
  if (!l || head >= l.heads) return undefined;
  const qa = Math.min(q0, l.queries - 1);
  const ka = Math.min(k0, l.keys - 1);
  const tile = attentionTile(l.probs, head * l.queries * l.keys, l.keys, qa, Math.min(Math.max(q1, qa + 1), l.queries), ka, Math.min(Math.max(k1, ka + 1), l.keys), maxCells, maxCells);
  return { layer, head, queries: l.queries, keys: l.keys, ...tile };
}

/** Cells of all heads' tiles together: one tile's worth, so that a window of every head costs what one head's does. */
const WINDOW_CELLS = 256 * 256;

/** The same window of every head of every layer, each clamped to its layer's queries and keys, the tiles' cells within WINDOW_CELLS together. */
export function headsWindow(capture: AttentionCapture, q0: number, q1: number, k0: number, k1: number, maxCells: number): HeadTile[] {
  const heads = capture.layers.reduce((sum, l) => sum + l.heads, 0);
  const cells = Math.max(1, Math.min(maxCells, Math.floor(Math.sqrt(WINDOW_CELLS / Math.max(1, heads)))));
  return capture.layers.flatMap((l, layer) => Array.from({ length: l.heads }, (_, head) => headTile(capture, layer, head, q0, q1, k0, k1, cells)!));
}

/**
 * A token's row (side 'query': its attention over the keys) or column (side 'key': every query's
 * attention to it) in every head of each captured layer whose queries or keys are that text's tokens.
 */
export function tokenRows(capture: AttentionCapture, token: number, side: 'query' | 'key', text: 'source' | 'target'): TokenRows {
  const tokens = text === 'source' ? capture.tokens : capture.target?.tokens;
  if (!tokens) throw new Error('this capture has no target text');
  if (token >= tokens.length) throw new Error(`token ${token} is out of range: the ${text} text has ${tokens.length} tokens`);
  const layers: TokenRows['layers'] = [];
  capture.layers.forEach((l, layer) => {
    const texts = layerTexts(l.part);
    if ((side === 'query' ? texts.queries : texts.keys) !== text) return;
    const length = side === 'query' ? l.keys : l.queries;
    const values = new Float32Array(l.heads * length);
    const size = l.queries * l.keys;
    for (let h = 0; h < l.heads; h++) {
      if (side === 'query') values.set(l.probs.subarray(h * size + token * l.keys, h * size + (token + 1) * l.keys), h * length);
      else for (let q = 0; q < l.queries; q++) values[h * length + q] = l.probs[h * size + q * l.keys + token];
    }
    layers.push({ layer, heads: l.heads, length, values });
  });
  return { token, side, text, layers };
}

/** One head between words: to a word sums its pieces, from a word averages them; with the words' labels. */
export function wordLevelHead(queries: Side, keys: Side, m: { layer: number; head: number; queries: number; keys: number; probs: Float32Array }) {
  const wordsOf = (side: Side): Int32Array => wordIndices(side.tokens, side.offsets, (i) => isSpecialToken(side.tokens[i]));
  const queryWord = wordsOf(queries);
  const keyWord = keys === queries ? queryWord : wordsOf(keys);
  const l = wordLevelLayer({ name: '', heads: 1, queries: m.queries, keys: m.keys, probs: m.probs }, queryWord, keyWord);
  return { matrix: { layer: m.layer, head: m.head, queries: l.queries, keys: l.keys, probs: l.probs }, labels: { queries: wordLabels(queries.tokens, queryWord), keys: wordLabels(keys.tokens, keyWord) } };
}

/** One head as a view asks for it: pieces, or words (of the two texts of an encoder-decoder's layers) with their labels; undefined when out of range. */
export function askedHead(capture: AttentionCapture, layer: number, head: number, words: boolean) {
  const matrix = headMatrix(capture, layer, head);
  if (!matrix || !words) return matrix && { matrix };
  const sides = layerTokens(capture, capture.layers[layer].part);
  return wordLevelHead(sides.queries, sides.keys, matrix);
}
