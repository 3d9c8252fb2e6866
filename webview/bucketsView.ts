// The lab's head in buckets: every token's LSH bucket in every round, and its routing cluster; ids
// are categories, a flat colour each with a tick each on the colour bar, rows a sensible height.
import Plotly from 'plotly.js-dist';
import type { BucketSummary, CaptureSummary } from '../src/protocol';
import { setChartTitle } from './chartTitle';
import { idScale } from './colorScale';
import { fitTokenTicks, tokenTicks } from './tokenTicks';
import { PLOT_CONFIG, plotLayout } from './theme';

// a row of ids, and what a strip needs around its rows: the colour bar above, vertical token labels below
const ROW_PX = 30;
const FRAME_PX = 200;

/** A share of the attention as a percentage; 1 - recall can fall a rounding error below 0. */
const percentOutside = (share: number): string => `${(100 * Math.max(0, share)).toFixed(1)}%`;

/** LSH buckets of every token in every round and routing clusters, of one head. */
export async function drawBuckets(lshRoot: HTMLElement, routingRoot: HTMLElement, s: CaptureSummary, b: BucketSummary): Promise<void> {
  const tokens = s.tokens;
  lshRoot.style.height = `${FRAME_PX + ROW_PX * b.lsh.length}px`;
  routingRoot.style.height = `${FRAME_PX + ROW_PX}px`;
  const xaxis = (root: HTMLElement) => ({ ...tokenTicks(tokens, 0, tokens.length - 1, root.clientWidth - 140), tickangle: -90, title: { text: 'token' } });
  await Plotly.react(
    lshRoot,
    [{
      type: 'heatmap',
      z: b.lsh,
      y: b.lsh.map((_, r) => `round ${r}`),
      text: b.lsh.map((round, r) => round.map((bucket, i) => `${tokens[i]} (${i}): bucket ${bucket}<br>of ${b.lshBucketSizes[r][bucket]} tokens`)),
      hovertemplate: '%{y}<br>%{text}<extra></extra>',
      ...idScale('bucket', Math.max(...b.lshBucketSizes.map((sizes) => sizes.length)), lshRoot.clientWidth - 100),
    }],
    plotLayout({ margin: { l: 60, r: 20, t: 10, b: 20 }, xaxis: xaxis(lshRoot), yaxis: { autorange: 'reversed', type: 'category' } }),
    PLOT_CONFIG,
  );
  await fitTokenTicks(lshRoot, { xaxis: tokens });
  await Plotly.react(
    routingRoot,
    [{
      type: 'heatmap',
      z: [b.routing],
      y: ['cluster'],
      text: [b.routing.map((c, i) => `${tokens[i]} (${i}): nearest centroid ${c},<br>which ${b.routingNearestSizes[c]} keys are nearest;<br>balanced, it takes its top ${b.routingClusterSizes[c]}`)],
      hovertemplate: '%{text}<extra></extra>',
      ...idScale('cluster', b.routingClusterSizes.length, routingRoot.clientWidth - 100),
    }],
    plotLayout({
      margin: { l: 60, r: 20, t: 10, b: 20 },
      xaxis: xaxis(routingRoot),
      yaxis: { type: 'category' },
    }),
    PLOT_CONFIG,
  );
  await fitTokenTicks(routingRoot, { xaxis: tokens });
  setChartTitle(lshRoot, `LSH buckets, head ${b.layer}.${b.head}: ${percentOutside(b.lshMassOutside)} of the attention falls outside`);
  setChartTitle(routingRoot, `Routing: each key's nearest centroid (the raw assignment; balanced, each cluster takes ${b.routingClusterSizes[0]} keys): ${percentOutside(b.routingMassOutside)} of the attention falls outside`);
}
