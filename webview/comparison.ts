// What the compare panel computes of two captures, apart from drawing: whether they can be
// compared at all (the same layers and heads), what kind of comparison it is, a head's cell-wise
// difference, and the difference of a head statistic in every head.
import { layerTokens } from '../src/analysis/attentionCapture';
import type { CaptureSummary, HeadSummary, HeadTile } from '../src/protocol';
import { statisticRange } from './statisticRange';

/** What is compared: one model on two texts, or two models (checkpoints) of one shape. */
export const comparisonKind = (first: CaptureSummary, second: CaptureSummary): string =>
  first.modelPath === second.modelPath ? 'the same model on two texts' : 'two models with the same layers and heads';

/** The query and key counts of a layer (its place among the captured layers) in a capture. */
export function layerShape(s: CaptureSummary, layer: number): { queries: number; keys: number } {
  const sides = layerTokens(s, s.layers[layer]?.part);
  return { queries: sides.queries.tokens.length, keys: sides.keys.tokens.length };
}

/** Why a layer's heads have no cell-wise difference (different token counts); undefined when they have one. */
export function tokenMismatch(first: CaptureSummary, second: CaptureSummary, layer: number): string | undefined {
  const [a, b] = [layerShape(first, layer), layerShape(second, layer)];
  if (a.queries === b.queries && a.keys === b.keys) return undefined;
  const count = (s: { queries: number; keys: number }): string => (s.queries === s.keys ? `${s.queries} tokens` : `${s.queries} queries x ${s.keys} keys`);
  return `No cell-wise difference: the heads have different token counts (${count(a)} in the first capture, ${count(b)} in the second).`;
}

/** first − second of two tiles of the same cells, [rows][cols]; undefined when they cover different cells. */
export function tileDifference(first: HeadTile, second: HeadTile): number[][] | undefined {
  const keys = ['queries', 'keys', 'q0', 'k0', 'rowStep', 'colStep', 'rows', 'cols'] as const;
  if (keys.some((k) => first[k] !== second[k])) return undefined;
  return Array.from({ length: first.rows }, (_, r) => Array.from({ length: first.cols }, (_, c) => first.values[r * first.cols + c] - second.values[r * first.cols + c]));
}

/** A statistic of every head (layers x heads) in the two captures and its difference, first − second; null where a head has none. */
export interface StatisticDifferences {
  /** the layers' indices in the model, one row each */
  layers: number[];
  heads: number;
  first: (number | null)[][];
  second: (number | null)[][];
  difference: (number | null)[][];
}

export function statisticDifferences(first: CaptureSummary, second: CaptureSummary, key: keyof HeadSummary): StatisticDifferences {
  const layers = first.layers.map((l) => l.index);
  const heads = Math.max(...first.layers.map((l) => l.heads));
  const values = (s: CaptureSummary): (number | null)[][] =>
    layers.map((layer) =>
      Array.from({ length: heads }, (_, head) => {
        const v = s.analysis?.heads.find((h) => h.layer === layer && h.head === head)?.[key];
        return typeof v === 'number' ? v : null;
      }),
    );
  const [a, b] = [values(first), values(second)];
  return { layers, heads, first: a, second: b, difference: a.map((row, l) => row.map((v, h) => (v === null || b[l][h] === null ? null : v - b[l][h]))) };
}

/** How far a statistic's difference can go: the larger of the two captures' ranges of it, so that a small difference does not look like a large one. */
export const statisticDifferenceBound = (first: CaptureSummary, second: CaptureSummary, key: keyof HeadSummary): number => Math.max(statisticRange(first, key)[1], statisticRange(second, key)[1]);
