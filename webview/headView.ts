// One head's attention as a heatmap with token labels: queries down, keys across.
import Plotly from 'plotly.js-dist';
import type { HeadMatrix, HeadTile } from '../src/protocol';
import { heatColorscale, plotLayout } from './theme';

/** The labels of a head's rows and columns: one text's tokens for self-attention, two for cross-attention. */
export interface Axes {
  queries: string[];
  keys: string[];
  queryTitle?: string;
  keyTitle?: string;
}

/** The heatmap; weights below `threshold` are left blank (hover still shows the rest exactly); `overlay` shades the pairs a sparse pattern computes. */
export function drawHead(root: HTMLElement, axes: Axes, m: Pick<HeadMatrix, 'queries' | 'keys' | 'probs'>, threshold = 0, overlay?: (i: number, j: number) => boolean): Promise<void> {
  const z: (number | null)[][] = [];
  for (let q = 0; q < m.queries; q++) z.push(Array.from(m.probs.subarray(q * m.keys, (q + 1) * m.keys), (v) => (v < threshold ? null : v)));
  // Numeric axes with token tick labels: categorical axes would merge repeated tokens.
  const ticks = (tokens: string[], count: number) => ({ tickvals: Array.from({ length: count }, (_, i) => i), ticktext: tokens.slice(0, count), automargin: true });
  const hover = z.map((row, q) => row.map((_, k) => `${axes.queries[q]} (${q}) → ${axes.keys[k]} (${k})`));
  const traces: object[] = [{ type: 'heatmap', z, text: hover, hovertemplate: '%{text}<br>%{z:.4f}<extra></extra>', colorscale: heatColorscale(), zmin: 0, zmax: 1 }];
  if (overlay) {
    const mask = Array.from({ length: m.queries }, (_, q) => Array.from({ length: m.keys }, (_, k) => (overlay(q, k) ? 1 : null)));
    traces.push({ type: 'heatmap', z: mask, colorscale: [[0, 'rgba(255,140,0,0.28)'], [1, 'rgba(255,140,0,0.28)']], showscale: false, hoverinfo: 'skip', name: 'pattern' });
  }
  return Plotly.react(
    root,
    traces,
    { ...plotLayout(), xaxis: { ...ticks(axes.keys, m.keys), tickangle: -60, title: { text: axes.keyTitle ?? 'key' } }, yaxis: { ...ticks(axes.queries, m.queries), autorange: 'reversed', title: { text: axes.queryTitle ?? 'query' } } },
    { displaylogo: false, responsive: true },
  );
}

/** A tile of a long sequence: cells cover rowStep x colStep weights (their maximum); token labels once cells are single tokens. */
export function drawTile(root: HTMLElement, axes: Axes, t: HeadTile, threshold = 0): Promise<void> {
  const z: (number | null)[][] = [];
  for (let r = 0; r < t.rows; r++) z.push(Array.from(t.values.subarray(r * t.cols, (r + 1) * t.cols), (v) => (v < threshold ? null : v)));
  const exact = t.rowStep === 1 && t.colStep === 1;
  const labelled = exact && t.cols <= 128 && t.rows <= 128;
  const ticks = (tokens: string[], start: number, count: number) =>
    labelled ? { tickvals: Array.from({ length: count }, (_, i) => start + i), ticktext: tokens.slice(start, start + count), automargin: true } : {};
  const hover = exact ? 'query %{y} → key %{x}: %{z:.4f}' : `max of a ${t.rowStep} x ${t.colStep} block near query %{y}, key %{x}: %{z:.4f}`;
  return Plotly.react(
    root,
    [{ type: 'heatmap', z, x0: t.k0 + (t.colStep - 1) / 2, dx: t.colStep, y0: t.q0 + (t.rowStep - 1) / 2, dy: t.rowStep, hovertemplate: `${hover}<extra></extra>`, colorscale: heatColorscale(), zmin: 0 }], // the scale tops at the window's largest weight: long rows are rarely near 1
    {
      ...plotLayout(),
      uirevision: `${t.layer}.${t.head}`,
      xaxis: { ...ticks(axes.keys, t.k0, t.cols), tickangle: labelled ? -60 : 0, title: { text: `${axes.keyTitle ?? 'key'} (${t.keys} tokens)` } },
      yaxis: { ...ticks(axes.queries, t.q0, t.rows), autorange: 'reversed', title: { text: `${axes.queryTitle ?? 'query'} (${t.queries} tokens)` } },
    },
    { displaylogo: false, responsive: true },
  );
}
