// The overview: every head in a layers x heads grid coloured by a statistic (over the statistic's
// own range, or the data's), and the map of heads by Jensen-Shannon distance beside it.
import Plotly from 'plotly.js-dist';
import type { CaptureSummary, HeadSummary } from '../src/protocol';
import { NO_DATA_COLOR, sequentialScale } from './colorMaps';
import type { ColorChoice } from './colorControls';
import { colorScale, colorbar, valueRange } from './colorScale';
import { describeHead, partName } from './headDescriptions';
import { fitPointLabels } from './pointLabels';
import { statisticRange } from './statisticRange';
import { PLOT_CONFIG, plotLayout } from './theme';

type Stat = 'entropyNats' | 'toCls' | 'toSep' | 'toPunct' | 'toPrev' | 'toNext' | 'toSelf' | 'toFirst' | 'sinkMass' | 'span90' | 'meanDistance' | 'induction' | 'toPrevOccurrence';

const STATISTICS: { key: Stat; label: string }[] = [
  { key: 'entropyNats', label: 'entropy (nats)' },
  { key: 'toCls', label: 'to [CLS]' },
  { key: 'toSep', label: 'to [SEP]' },
  { key: 'toPunct', label: 'to punctuation' },
  { key: 'toPrev', label: 'to previous' },
  { key: 'toNext', label: 'to next' },
  { key: 'toSelf', label: 'to self' },
  { key: 'toFirst', label: 'to first token (sink)' },
  { key: 'sinkMass', label: 'mass left to a sink' },
  { key: 'span90', label: 'span 90%' },
  { key: 'meanDistance', label: 'mean distance' },
  { key: 'induction', label: 'induction (prefix matching)' },
  { key: 'toPrevOccurrence', label: 'to previous occurrence (duplicate token)' },
];

/** The statistics the overview can colour by: the head analysis's, and each lab method's recall. */
export function overviewStatistics(s: CaptureSummary): { key: string; label: string }[] {
  const methods = [...new Set(s.lab?.heads.flatMap((h) => h.methods.map((m) => m.method)) ?? [])];
  return [...STATISTICS, ...methods.map((m) => ({ key: `recall:${m}`, label: `recall of ${m}` }))];
}

function statisticOf(s: CaptureSummary, key: string): (h: HeadSummary) => number | null {
  if (!key.startsWith('recall:')) return (h) => h[key as Stat] as number | null;
  const method = key.slice('recall:'.length);
  return (h) => s.lab?.heads.find((x) => x.layer === h.layer && x.head === h.head)?.methods.find((m) => m.method === method)?.recall ?? null;
}

/** A tick every 1, 2, 5, 10, ... cells: as many as fit with about 28 px for each label. */
function integerStep(cells: number, pixels: number): number {
  const fit = Math.max(2, Math.floor(pixels / 28));
  for (const step of [1, 2, 5, 10, 20, 50, 100]) if (cells / step <= fit) return step;
  return Math.ceil(cells / fit);
}

/** The integers 0..cells-1 at a step that fits in `pixels`: ticks of heads and layers, never 0.5. */
const everyStep = (cells: number, pixels: number): number[] => {
  const step = integerStep(cells, pixels);
  return Array.from({ length: Math.ceil(cells / step) }, (_, i) => i * step);
};

function grid<T>(s: CaptureSummary, value: (h: HeadSummary) => T): { layers: number[]; heads: number; z: (T | null)[][] } {
  const heads = s.analysis!.heads;
  const layers = [...new Set(heads.map((h) => h.layer))];
  const width = Math.max(...s.layers.map((l) => l.heads));
  const z = layers.map((l) => Array.from({ length: width }, (_, h) => {
    const found = heads.find((x) => x.layer === l && x.head === h);
    return found ? value(found) : null;
  }));
  return { layers, heads: width, z };
}


/** The overview grid; clicking a cell calls onHead. */
export async function drawOverview(root: HTMLElement, s: CaptureSummary, stat: string, color: ColorChoice, onHead: (layer: number, head: number) => void): Promise<void> {
  const g = grid(s, statisticOf(s, stat));
  const text = grid(s, describeHead).z;
  const label = overviewStatistics(s).find((x) => x.key === stat)?.label ?? stat;
  const scale = colorScale(label, statisticRange(s, stat), valueRange(g.z.flat()), color.range, 'linear');
  await Plotly.react(
    root,
    [{ type: 'heatmap', z: g.z, x: Array.from({ length: g.heads }, (_, h) => h), y: g.layers, text, hovertemplate: '%{text}<extra></extra>', ...scale.trace }],
    plotLayout({
      // heads a layer lacks, and statistics a head has none of (cross-attention's offsets)
      plot_bgcolor: NO_DATA_COLOR,
      xaxis: { title: { text: 'head' }, tickvals: everyStep(g.heads, root.clientWidth - 120) },
      yaxis: {
        title: { text: 'layer' },
        autorange: 'reversed',
        // an encoder-decoder's layers say which attention they are
        ...(s.layers.some((l) => l.part) ? { tickvals: g.layers, ticktext: g.layers.map((l) => `${l} ${s.layers.find((x) => x.index === l)?.part ?? ''}`) } : { tickvals: everyStep(g.layers.length, root.clientHeight - 80) }),
      },
    }),
    PLOT_CONFIG,
  );
  (root as unknown as { on(event: string, cb: (e: { points: { x: number; y: number }[] }) => void): void }).on('plotly_click', (e) => {
    const p = e.points[0];
    if (p) onHead(p.y, p.x);
  });
}

/** The map of heads (MDS of their Jensen-Shannon distances), coloured by layer, labelled as far as labels fit. */
export async function drawEmbedding(root: HTMLElement, s: CaptureSummary): Promise<void> {
  const a = s.analysis!;
  const e = a.headDistance!.embedding;
  // An encoder-decoder's parts are embedded each on its own: one trace each, shown or hidden from the legend.
  const parts = s.layers.some((l) => l.part) ? (['encoder', 'decoder', 'cross'] as const) : [undefined];
  const partOf = (layer: number) => s.layers.find((l) => l.index === layer)?.part;
  const lastLayer = Math.max(1, ...s.layers.map((l) => l.index));
  const layerTicks = everyStep(lastLayer + 1, root.clientHeight - 80);
  const members = parts.map((part) => a.heads.flatMap((h, k) => (partOf(h.layer) === part ? [k] : [])));
  const labels = members.map((heads) => heads.map((k) => `${a.heads[k].layer}.${a.heads[k].head}`));
  const traces = parts.map((part, i) => {
    const heads = members[i];
    return {
      type: 'scatter',
      mode: 'markers+text',
      name: part ? partName(s, s.layers.find((l) => l.part === part)?.index ?? -1) : 'heads',
      visible: i === 0 ? true : 'legendonly',
      x: heads.map((k) => e[k][0]),
      y: heads.map((k) => e[k][1]),
      // every label at first (plotly draws no text for a trace first drawn without), then those that fit
      text: labels[i],
      textposition: 'top center',
      customdata: heads.map((k) => [partName(s, a.heads[k].layer), describeHead(a.heads[k])].filter(Boolean).join('<br>')),
      hovertemplate: '%{customdata}<extra></extra>',
      // layers are ordered: the sequential map, a tick for each (or every k-th) layer
      marker: { size: 10, color: heads.map((k) => a.heads[k].layer), colorscale: sequentialScale(), cmin: 0, cmax: lastLayer, showscale: i === 0, colorbar: colorbar('layer', layerTicks, layerTicks.map(String)) },
    };
  });
  await Plotly.react(
    root,
    traces,
    plotLayout({
      showlegend: parts.length > 1,
      legend: { orientation: 'h', y: 1.08, title: { text: 'each on its own map:' } },
      // distances' decimals are wide labels: as many as fit, about 60 px each
      xaxis: { title: { text: 'MDS 1 (Jensen-Shannon)' }, zeroline: false, nticks: Math.max(2, Math.floor((root.clientWidth - 120) / 60)) },
      yaxis: { title: { text: 'MDS 2' }, zeroline: false },
    }),
    PLOT_CONFIG,
  );
  await fitPointLabels(root, labels);
}
