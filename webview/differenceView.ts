// The compare panel's charts of differences, on the diverging map over a range symmetric about 0:
// a head's attention in the first capture minus the second's, cell by cell, and a statistic's
// difference in every head (layers x heads), each hover giving both values and their difference.
import Plotly from 'plotly.js-dist';
import type { HeadTile } from '../src/protocol';
import { NO_DATA_COLOR } from './colorMaps';
import { ColorRange, colorScale, valueRange } from './colorScale';
import type { StatisticDifferences } from './comparison';
import { Axes, tokenLayout } from './headView';
import { PLOT_CONFIG, plotLayout } from './theme';
import { fitTokenTicks } from './tokenTicks';

const signed = (v: number, digits: number): string => `${v > 0 ? '+' : ''}${v.toFixed(digits)}`;

/**
 * A head's difference, first − second, over the cells of `tile` (either capture's: they cover the
 * same cells): over -1..1 or the data's symmetric range. Blocks of many tokens are the difference
 * of their maxima, as the hover says; token labels once cells are single tokens.
 */
export async function drawDifference(root: HTMLElement, axes: Axes, tile: HeadTile, difference: number[][], pair: { first: HeadTile; second: HeadTile }, range: ColorRange): Promise<void> {
  const scale = colorScale('difference', [-1, 1], valueRange(difference.flat()), range, 'linear', { lying: true, diverging: true });
  const exact = tile.rowStep === 1 && tile.colStep === 1;
  const both = difference.map((row, r) => row.map((_, c) => [pair.first.values[r * tile.cols + c], pair.second.values[r * tile.cols + c]]));
  const where = exact ? '%{text}' : `max of a ${tile.rowStep} x ${tile.colStep} block near query %{y}, key %{x}`;
  const text = exact ? difference.map((row, r) => row.map((_, c) => `${axes.queries[tile.q0 + r]} (${tile.q0 + r}) → ${axes.keys[tile.k0 + c]} (${tile.k0 + c})`)) : undefined;
  await Plotly.react(
    root,
    [
      {
        type: 'heatmap',
        z: difference.map((row) => row.map(scale.z)),
        x0: tile.k0 + (tile.colStep - 1) / 2,
        dx: tile.colStep,
        y0: tile.q0 + (tile.rowStep - 1) / 2,
        dy: tile.rowStep,
        customdata: both,
        text,
        hovertemplate: `${where}<br>first %{customdata[0]:.4f} · second %{customdata[1]:.4f}<br>difference %{z:+.4f}<extra></extra>`,
        ...scale.trace,
      },
    ],
    { ...tokenLayout(root, axes, [tile.q0, tile.q0 + tile.rows - 1], [tile.k0, tile.k0 + tile.cols - 1], { x: axes.keyTitle ?? 'key', y: axes.queryTitle ?? 'query' }, exact), uirevision: `${tile.layer}.${tile.head}` },
    PLOT_CONFIG,
  );
  await fitTokenTicks(root, exact ? { xaxis: axes.keys, yaxis: axes.queries } : {});
}

/**
 * A statistic's difference in every head, first − second, over ±`bound` (the statistic's own
 * reach) or the data's symmetric range; heads without a value in grey. Clicking a cell calls
 * onHead with the layer's place among the captured layers and the head.
 */
export async function drawStatisticDifferences(root: HTMLElement, d: StatisticDifferences, label: string, bound: number, range: ColorRange, layerNames: string[], onHead: (layer: number, head: number) => void): Promise<void> {
  const scale = colorScale(`${label}:<br>first − second`, [-bound, bound], valueRange(d.difference.flat()), range, 'linear', { diverging: true });
  const value = (v: number | null): string => (v === null ? '–' : v.toFixed(3));
  const text = d.difference.map((row, l) =>
    row.map((v, h) => `layer ${d.layers[l]} head ${h} · ${label}<br>first ${value(d.first[l][h])} · second ${value(d.second[l][h])}<br>difference ${v === null ? '–' : signed(v, 3)}`),
  );
  await Plotly.react(
    root,
    [
      {
        type: 'heatmap',
        z: d.difference.map((row) => row.map(scale.z)),
        // categories: integer ticks only, thinned by plotly where they crowd
        x: Array.from({ length: d.heads }, (_, h) => String(h)),
        y: layerNames,
        text,
        hovertemplate: '%{text}<extra></extra>',
        hoverongaps: false,
        ...scale.trace,
      },
    ],
    plotLayout({
      plot_bgcolor: NO_DATA_COLOR,
      xaxis: { type: 'category', title: { text: 'head' } },
      yaxis: { type: 'category', title: { text: 'layer' }, autorange: 'reversed' },
    }),
    PLOT_CONFIG,
  );
  (root as unknown as { on(event: string, cb: (e: { points: { pointNumber: [number, number] }[] }) => void): void }).on('plotly_click', (e) => {
    const p = e.points[0];
    if (p) onHead(p.pointNumber[0], p.pointNumber[1]);
  });
}
