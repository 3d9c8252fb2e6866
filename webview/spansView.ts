// How far heads look: each head's effective span by layer, and its attention by relative offset.
import Plotly from 'plotly.js-dist';
import type { CaptureSummary } from '../src/protocol';
import type { ColorChoice } from './colorControls';
import { colorScale, valueRange } from './colorScale';
import { fitTokenTicks, tokenTicks } from './tokenTicks';
import { PLOT_CONFIG, plotLayout } from './theme';

export function drawSpans(root: HTMLElement, s: CaptureSummary, coverage: 'span50' | 'span90' | 'span99'): Promise<void> {
  const heads = s.analysis!.heads.filter((h) => h[coverage] !== null);
  return Plotly.react(
    root,
    [{
      type: 'scatter',
      mode: 'markers',
      x: heads.map((h) => h.layer + (h.head - 0.5 * (Math.max(...heads.map((x) => x.head)))) * 0.04),
      y: heads.map((h) => Math.max(0.5, h[coverage]!)),
      customdata: heads.map((h) => `layer ${h.layer} head ${h.head}: ${h[coverage]} tokens`),
      hovertemplate: '%{customdata}<extra></extra>',
      marker: { size: 9 },
    }],
    plotLayout({ xaxis: { title: { text: 'layer' }, dtick: 1 }, yaxis: { type: 'log', title: { text: `effective span at ${coverage.slice(4)}% coverage (tokens)` } } }),
    PLOT_CONFIG,
  );
}

/** Each self-attention head's mean attention at every offset, shares on the weights' colour scale. */
export async function drawRelative(root: HTMLElement, s: CaptureSummary, color: ColorChoice): Promise<void> {
  const a = s.analysis!;
  const shown = a.heads.flatMap((_, k) => (a.relative.profile[k].some((v) => v === null || Number.isNaN(v)) ? [] : [k]));
  const rows = shown.map((k) => a.relative.profile[k]);
  const names = shown.map((k) => `${a.heads[k].layer}.${a.heads[k].head}`);
  const values = rows.flat();
  const scale = colorScale('share', [0, 1], valueRange(values), color.range, color.curve, { smallestPositive: Math.min(...values.filter((v) => v > 0)), lying: true });
  await Plotly.react(
    root,
    [{ type: 'heatmap', z: rows.map((r) => r.map(scale.z)), customdata: rows, x: a.relative.offsets, text: rows.map((r, i) => r.map(() => names[i])), hovertemplate: 'head %{text}, offset %{x}: %{customdata:.4f}<extra></extra>', ...scale.trace }],
    plotLayout({ xaxis: { title: { text: 'relative offset (key - query)' } }, yaxis: { title: { text: 'layer.head' }, autorange: 'reversed', ...tokenTicks(names, 0, names.length - 1, root.clientHeight - 100) } }),
    PLOT_CONFIG,
  );
  await fitTokenTicks(root, { yaxis: names });
}
