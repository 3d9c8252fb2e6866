// One head's attention as a heatmap with token labels: queries down, keys across.
import Plotly from 'plotly.js-dist';
import type { HeadMatrix } from '../src/protocol';
import { heatColorscale, plotLayout } from './theme';

/** The heatmap; weights below `threshold` are left blank (hover still shows the rest exactly). */
export function drawHead(root: HTMLElement, tokens: string[], m: HeadMatrix, threshold = 0): Promise<void> {
  const z: (number | null)[][] = [];
  for (let q = 0; q < m.queries; q++) z.push(Array.from(m.probs.subarray(q * m.keys, (q + 1) * m.keys), (v) => (v < threshold ? null : v)));
  // Numeric axes with token tick labels: categorical axes would merge repeated tokens.
  const ticks = (count: number) => ({ tickvals: Array.from({ length: count }, (_, i) => i), ticktext: tokens.slice(0, count), automargin: true });
  const hover = z.map((row, q) => row.map((_, k) => `${tokens[q]} (${q}) → ${tokens[k]} (${k})`));
  return Plotly.react(
    root,
    [{ type: 'heatmap', z, text: hover, hovertemplate: '%{text}<br>%{z:.4f}<extra></extra>', colorscale: heatColorscale(), zmin: 0, zmax: 1 }],
    { ...plotLayout(), xaxis: { ...ticks(m.keys), tickangle: -60, title: { text: 'key' } }, yaxis: { ...ticks(m.queries), autorange: 'reversed', title: { text: 'query' } } },
    { displaylogo: false, responsive: true },
  );
}
