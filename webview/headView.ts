// One head's attention as a heatmap with token labels: queries down, keys across, square cells,
// the labels thinned to what fits; the colours over 0-1 (or the data's range), linear or not.
import Plotly from 'plotly.js-dist';
import { layerTokens } from '../src/analysis/attentionCapture';
import type { CaptureSummary, HeadMatrix, HeadTile } from '../src/protocol';
import type { ColorChoice } from './colorControls';
import { colorScale, valueRange } from './colorScale';
import { PLOT_CONFIG, plotLayout } from './theme';
import { fitTokenTicks, tokenTicks } from './tokenTicks';

/** The labels of a head's rows and columns: one text's tokens for self-attention, two for cross-attention. */
export interface Axes {
  queries: string[];
  keys: string[];
  queryTitle?: string;
  keyTitle?: string;
}

/** A layer's (its place among the captured layers) query and key tokens: in an encoder-decoder, the target's or the source's, titled so. */
export function layerAxes(s: CaptureSummary, layer: number): Axes {
  const part = s.layers[layer]?.part;
  const sides = layerTokens(s, part);
  const titles = part ? { queryTitle: part === 'encoder' ? 'query (source)' : 'query (target)', keyTitle: part === 'decoder' ? 'key (target)' : 'key (source)' } : {};
  return { queries: sides.queries.tokens, keys: sides.keys.tokens, ...titles };
}

const LINEAR: ColorChoice = { range: 'fixed', curve: 'linear' };
/** Rows of weights, those below `threshold` left out (null: drawn as the background). */
function thresholded(values: Float32Array, rows: number, cols: number, threshold: number): (number | null)[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols), (v) => (v < threshold ? null : v)));
}

const smallestPositive = (values: Float32Array): number => values.reduce((a, v) => (v > 0 && v < a ? v : a), Infinity);

/** The weights' colour scale and the z a heatmap draws. */
function weightColors(values: Float32Array, z: (number | null)[][], color: ColorChoice) {
  const scale = colorScale('weight', [0, 1], valueRange(values), color.range, color.curve, { smallestPositive: smallestPositive(values), lying: true });
  return { scale, z: z.map((row) => row.map(scale.z)) };
}

/** Axes of token positions: square cells, the keys' labels vertical, the labels thinned to the plot's guessed size (fitted once drawn). */
export function tokenLayout(root: HTMLElement, axes: Axes, rows: [number, number], cols: [number, number], titles: { x: string; y: string }, labelled = true): object {
  const side = Math.min(root.clientWidth, root.clientHeight) - 140;
  const ticks = (tokens: string[], [first, last]: [number, number]) => (labelled ? tokenTicks(tokens, first, last, side) : {});
  return plotLayout({
    xaxis: { ...ticks(axes.keys, cols), tickangle: -90, title: { text: titles.x }, constrain: 'domain' },
    yaxis: { ...ticks(axes.queries, rows), autorange: 'reversed', title: { text: titles.y }, scaleanchor: 'x', constrain: 'domain' },
  });
}

/** The heatmap; weights below `threshold` are left blank (hover still shows the rest exactly); `overlay` shades the pairs a sparse pattern computes. */
export async function drawHead(root: HTMLElement, axes: Axes, m: Pick<HeadMatrix, 'queries' | 'keys' | 'probs'>, threshold = 0, color = LINEAR, overlay?: (i: number, j: number) => boolean): Promise<void> {
  const weights = thresholded(m.probs, m.queries, m.keys, threshold);
  const { scale, z } = weightColors(m.probs, weights, color);
  // Numeric axes with token tick labels: categorical axes would merge repeated tokens.
  const hover = weights.map((row, q) => row.map((_, k) => `${axes.queries[q]} (${q}) → ${axes.keys[k]} (${k})`));
  const traces: object[] = [{ type: 'heatmap', z, customdata: weights, text: hover, hovertemplate: '%{text}<br>%{customdata:.4f}<extra></extra>', ...scale.trace }];
  if (overlay) {
    const mask = Array.from({ length: m.queries }, (_, q) => Array.from({ length: m.keys }, (_, k) => (overlay(q, k) ? 1 : null)));
    traces.push({ type: 'heatmap', z: mask, colorscale: [[0, 'rgba(255,140,0,0.28)'], [1, 'rgba(255,140,0,0.28)']], showscale: false, hoverinfo: 'skip', name: 'pattern' });
  }
  await Plotly.react(root, traces, tokenLayout(root, axes, [0, m.queries - 1], [0, m.keys - 1], { x: axes.keyTitle ?? 'key', y: axes.queryTitle ?? 'query' }), PLOT_CONFIG);
  await fitTokenTicks(root, { xaxis: axes.keys, yaxis: axes.queries });
}

/** A tile of a long sequence: cells cover rowStep x colStep weights (their maximum); token labels once cells are single tokens. */
export async function drawTile(root: HTMLElement, axes: Axes, t: HeadTile, threshold = 0, color = LINEAR): Promise<void> {
  const weights = thresholded(t.values, t.rows, t.cols, threshold);
  const { scale, z } = weightColors(t.values, weights, color);
  const exact = t.rowStep === 1 && t.colStep === 1;
  const hover = exact ? 'query %{y} → key %{x}: %{customdata:.4f}' : `max of a ${t.rowStep} x ${t.colStep} block near query %{y}, key %{x}: %{customdata:.4f}`;
  const layout = tokenLayout(root, axes, [t.q0, t.q0 + t.rows - 1], [t.k0, t.k0 + t.cols - 1], { x: `${axes.keyTitle ?? 'key'} (${t.keys} tokens)`, y: `${axes.queryTitle ?? 'query'} (${t.queries} tokens)` }, exact);
  await Plotly.react(
    root,
    [{ type: 'heatmap', z, customdata: weights, x0: t.k0 + (t.colStep - 1) / 2, dx: t.colStep, y0: t.q0 + (t.rowStep - 1) / 2, dy: t.rowStep, hovertemplate: `${hover}<extra></extra>`, ...scale.trace }],
    { ...layout, uirevision: `${t.layer}.${t.head}` },
    PLOT_CONFIG,
  );
  // blocks of many tokens have no token labels, at this zoom or after it
  await fitTokenTicks(root, exact ? { xaxis: axes.keys, yaxis: axes.queries } : {});
}
