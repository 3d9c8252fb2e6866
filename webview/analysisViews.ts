// Views of the head analysis and the lab: a layers x heads grid coloured by a statistic with the
// head embedding beside it, spans by layer, relative-offset profiles, and methods compared.
import Plotly from 'plotly.js-dist';
import type { CaptureSummary, HeadSummary } from '../src/protocol';
import { NO_DATA_COLOR, heatColorscale, plotLayout, themeColor } from './theme';

type Stat = 'entropyNats' | 'toCls' | 'toSep' | 'toPunct' | 'toPrev' | 'toNext' | 'toSelf' | 'toFirst' | 'sinkMass' | 'span90' | 'meanDistance' | 'induction' | 'toPrevOccurrence';

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

const config = { displaylogo: false, responsive: true };

/** A tick every 1, 2, 5, 10, ... cells: as many as fit with about 28 px for each label. */
function integerStep(cells: number, pixels: number): number {
  const fit = Math.max(2, Math.floor(pixels / 28));
  for (const step of [1, 2, 5, 10, 20, 50, 100]) if (cells / step <= fit) return step;
  return Math.ceil(cells / fit);
}

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

const fixed = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));

const describe = (h: HeadSummary): string =>
  `layer ${h.layer} head ${h.head}: ${h.labels.join(', ') || 'no label'}<br>` +
  `entropy ${h.entropyNats.toFixed(2)} / ${h.uniformEntropyNats.toFixed(2)} nats<br>` +
  `[CLS] ${h.toCls.toFixed(2)} · [SEP] ${h.toSep.toFixed(2)} · punct ${h.toPunct.toFixed(2)}<br>` +
  (h.toPrev === null
    ? `first ${h.toFirst.toFixed(2)} · cross-attention: offsets and spans do not apply`
    : `prev ${fixed(h.toPrev, 2)} · next ${fixed(h.toNext, 2)} · self ${fixed(h.toSelf, 2)} · first ${h.toFirst.toFixed(2)}`) +
  // below a percent it is the rounding of float16 rows, not a sink
  `${h.sinkMass > 0.01 ? ` · sink ${h.sinkMass.toFixed(3)}` : ''}` +
  (h.induction === null ? '' : `<br>induction ${h.induction.toFixed(2)} · to previous occurrence ${fixed(h.toPrevOccurrence, 2)}`) +
  (h.span50 === null ? '' : `<br>span 50/90/99% ${h.span50}/${h.span90}/${h.span99} · mean distance ${fixed(h.meanDistance, 1)}`);

/** Which attention of an encoder-decoder a layer is, in words; empty for a model of one stack. */
export function partName(s: CaptureSummary, layer: number): string {
  const part = s.layers.find((l) => l.index === layer)?.part;
  return part === 'encoder' ? 'encoder self-attention' : part === 'decoder' ? 'decoder self-attention' : part === 'cross' ? 'cross-attention' : '';
}

/** Heads of cross-attention have no offsets or spans: the views of those say how many were left out. */
export function crossHeadsNote(s: CaptureSummary): string {
  const cross = s.analysis!.heads.filter((h) => h.span90 === null).length;
  return cross ? `${cross} cross-attention heads are left out: their queries and keys are positions of different texts, so offsets and spans do not apply` : '';
}

/** The overview grid; clicking a cell calls onHead. */
/**
 * The range a statistic's colours span: fixed where the quantity has one (shares and recalls 0-1,
 * entropy 0 to the largest uniform entropy, distances 0 to n - 1), so that a narrow spread of
 * values does not look like a wide one.
 */
function statisticRange(s: CaptureSummary, stat: string): [number, number] {
  const heads = s.analysis!.heads;
  if (stat === 'entropyNats') return [0, Math.max(...heads.map((h) => h.uniformEntropyNats))];
  if (stat === 'span90' || stat === 'meanDistance') return [0, Math.max(1, s.tokens.length - 1, (s.target?.tokens.length ?? 0) - 1)];
  return [0, 1];
}

export async function drawOverview(root: HTMLElement, s: CaptureSummary, stat: string, onHead: (layer: number, head: number) => void): Promise<void> {
  const g = grid(s, statisticOf(s, stat));
  const text = grid(s, describe).z;
  const [zmin, zmax] = statisticRange(s, stat);
  await Plotly.react(
    root,
    [{ type: 'heatmap', z: g.z, zmin, zmax, x: Array.from({ length: g.heads }, (_, h) => h), y: g.layers, text, hovertemplate: '%{text}<extra></extra>', colorscale: heatColorscale(), colorbar: { title: { text: overviewStatistics(s).find((x) => x.key === stat)?.label ?? stat } } }],
    {
      ...plotLayout(),
      // heads a layer lacks, and statistics a head has none of (cross-attention's offsets)
      plot_bgcolor: NO_DATA_COLOR,
      xaxis: { title: { text: 'head' }, dtick: integerStep(g.heads, root.clientWidth) },
      yaxis: {
        title: { text: 'layer' },
        autorange: 'reversed',
        // an encoder-decoder's layers say which attention they are
        ...(s.layers.some((l) => l.part) ? { tickvals: g.layers, ticktext: g.layers.map((l) => `${l} ${s.layers.find((x) => x.index === l)?.part ?? ''}`) } : { dtick: integerStep(g.layers.length, root.clientHeight) }),
      },
    },
    config,
  );
  (root as unknown as { on(event: string, cb: (e: { points: { x: number; y: number }[] }) => void): void }).on('plotly_click', (e) => {
    const p = e.points[0];
    if (p) onHead(p.y, p.x);
  });
}

export function drawEmbedding(root: HTMLElement, s: CaptureSummary): Promise<void> {
  const a = s.analysis!;
  const e = a.headDistance!.embedding;
  // An encoder-decoder's parts are embedded each on its own: one trace each, shown or hidden from the legend.
  const parts = s.layers.some((l) => l.part) ? (['encoder', 'decoder', 'cross'] as const) : [undefined];
  const partOf = (layer: number) => s.layers.find((l) => l.index === layer)?.part;
  const traces = parts.map((part, i) => {
    const heads = a.heads.flatMap((h, k) => (partOf(h.layer) === part ? [k] : []));
    return {
      type: 'scatter',
      mode: 'markers+text',
      name: part ? partName(s, s.layers.find((l) => l.part === part)?.index ?? -1) : 'heads',
      visible: i === 0 ? true : 'legendonly',
      x: heads.map((k) => e[k][0]),
      y: heads.map((k) => e[k][1]),
      text: heads.map((k) => `${a.heads[k].layer}.${a.heads[k].head}`),
      textposition: 'top center',
      customdata: heads.map((k) => [partName(s, a.heads[k].layer), describe(a.heads[k])].filter(Boolean).join('<br>')),
      hovertemplate: '%{customdata}<extra></extra>',
      marker: { size: 10, color: heads.map((k) => a.heads[k].layer), colorscale: 'Viridis', cmin: 0, cmax: Math.max(1, ...s.layers.map((l) => l.index)), showscale: i === 0, colorbar: { title: { text: 'layer' } } },
    };
  });
  return Plotly.react(
    root,
    traces,
    {
      ...plotLayout(),
      showlegend: parts.length > 1,
      legend: { orientation: 'h', y: 1.08, title: { text: 'each on its own map:' } },
      xaxis: { title: { text: 'MDS 1 (Jensen-Shannon)' }, zeroline: false },
      yaxis: { title: { text: 'MDS 2' }, zeroline: false },
    },
    config,
  );
}

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
    { ...plotLayout(), xaxis: { title: { text: 'layer' }, dtick: 1 }, yaxis: { type: 'log', title: { text: `effective span at ${coverage.slice(4)}% coverage (tokens)` } } },
    config,
  );
}

export function drawRelative(root: HTMLElement, s: CaptureSummary): Promise<void> {
  const a = s.analysis!;
  const shown = a.heads.flatMap((_, k) => (a.relative.profile[k].some((v) => v === null || Number.isNaN(v)) ? [] : [k]));
  return Plotly.react(
    root,
    [{ type: 'heatmap', z: shown.map((k) => a.relative.profile[k]), x: a.relative.offsets, y: shown.map((k) => `${a.heads[k].layer}.${a.heads[k].head}`), colorscale: heatColorscale(), hovertemplate: 'head %{y}, offset %{x}: %{z:.4f}<extra></extra>' }],
    { ...plotLayout(), xaxis: { title: { text: 'relative offset (key - query)' } }, yaxis: { title: { text: 'layer.head' }, autorange: 'reversed', type: 'category' } },
    config,
  );
}

// One colour per method, the same in the bars and the curves (Plotly's default sequence, which
// reads on light and dark backgrounds alike).
const METHOD_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

const paramsText = (p: Record<string, number>): string => Object.entries(p).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`).join(', ');

/**
 * The methods at equal budget (mean recall, ranked; those that cannot meet the budget hatched
 * after them, never ranked; the scores each computed beside, against the budget line), recall
 * against budget, and every method's recall on every head.
 */
export async function drawMethods(bars: HTMLElement, curves: HTMLElement, detail: HTMLElement, s: CaptureSummary): Promise<void> {
  const lab = s.lab!;
  const eq = lab.equalBudget;
  const all = [...new Set(lab.heads.flatMap((h) => h.methods.map((m) => m.method)))];
  const colorOf = (m: string): string => METHOD_COLORS[all.indexOf(m) % METHOD_COLORS.length];
  const names = [...eq.ranking, ...Object.keys(eq.methods).filter((m) => !eq.ranking.includes(m))];
  const at = names.map((m) => eq.methods[m]);
  const over = (m: (typeof at)[number]): boolean => !m.withinBudget;
  await Plotly.react(
    bars,
    [
      {
        type: 'bar',
        name: 'mean recall',
        x: names,
        y: at.map((m) => m.meanRecall),
        // the ranked methods come first, in their order
        text: at.map((m, i) => (over(m) ? 'over budget' : `#${i + 1}`)),
        textposition: 'outside',
        customdata: at.map((m) =>
          `${paramsText(m.params)}<br>${Math.round(m.scoresComputed).toLocaleString('en')} scores per head on average, ${m.maxScoresComputed.toLocaleString('en')} at most` +
          (over(m) ? '<br>cannot meet the budget at this n: shown at its cheapest setting, not ranked' : ''),
        ),
        hovertemplate: '%{x}: mean recall %{y:.3f}<br>%{customdata}<extra></extra>',
        marker: { color: names.map(colorOf), pattern: { shape: at.map((m) => (over(m) ? '/' : '')), fillmode: 'overlay', solidity: 0.5 } },
      },
      {
        type: 'scatter',
        mode: 'markers',
        name: 'scores computed per head',
        x: names,
        y: at.map((m) => m.scoresComputed),
        yaxis: 'y2',
        marker: { symbol: 'diamond', size: 11, color: themeColor('--vscode-editor-foreground', '#333'), line: { width: 0 } },
        hovertemplate: '%{x}: %{y:,.0f} scores per head<extra></extra>',
      },
    ],
    {
      ...plotLayout(),
      margin: { l: 70, r: 70, t: 70, b: 60 },
      title: { text: `Equal budget: at most ${eq.budget.toLocaleString('en')} scores per head (n = ${s.tokens.length}); hatched: cannot meet it`, font: { size: 13 }, y: 0.98 },
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: 1, yanchor: 'bottom' },
      yaxis: { title: { text: 'mean recall over heads' }, range: [0, 1.1] },
      yaxis2: { title: { text: 'scores computed per head' }, overlaying: 'y', side: 'right', showgrid: false, rangemode: 'tozero' },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y2', y0: eq.budget, y1: eq.budget, line: { dash: 'dash', width: 1, color: themeColor('--vscode-editor-foreground', '#333') } }],
      annotations: [{ xref: 'paper', x: 0, xanchor: 'left', yref: 'y2', y: eq.budget, yanchor: 'bottom', text: `budget ${eq.budget.toLocaleString('en')}`, showarrow: false }],
    },
    config,
  );
  const c = lab.budgetCurves;
  await Plotly.react(
    curves,
    Object.entries(c.methods).map(([m, v]) => ({
      type: 'scatter',
      mode: 'lines+markers',
      name: m,
      x: c.budgets,
      y: v.meanRecall,
      customdata: v.scoresComputed,
      connectgaps: false,
      line: { color: colorOf(m) },
      hovertemplate: `${m} at budget %{x:,}: mean recall %{y:.3f}, %{customdata:,.0f} scores per head<extra></extra>`,
    })),
    {
      ...plotLayout(),
      margin: { l: 70, r: 20, t: 40, b: 60 },
      title: { text: `Recall against budget (${c.heads.length} of ${lab.heads.length} heads; a gap: the method cannot meet that budget)`, font: { size: 13 } },
      xaxis: { title: { text: 'budget: scores per head' }, type: 'log' },
      yaxis: { title: { text: 'mean recall' }, range: [0, 1.02] },
      shapes: [{ type: 'line', x0: eq.budget, x1: eq.budget, yref: 'paper', y0: 0, y1: 1, line: { dash: 'dot', width: 1, color: themeColor('--vscode-editor-foreground', '#333') } }],
    },
    config,
  );
  await Plotly.react(
    detail,
    [{
      type: 'heatmap',
      z: all.map((m) => lab.heads.map((h) => h.methods.find((x) => x.method === m)?.recall ?? null)),
      x: lab.heads.map((h) => `${h.layer}.${h.head}`),
      y: all,
      zmin: 0,
      zmax: 1,
      colorscale: heatColorscale(),
      hovertemplate: '%{y} on head %{x}: recall %{z:.3f}<extra></extra>',
    }],
    { ...plotLayout(), title: { text: "Each method at the lab's settings, head by head", font: { size: 13 } }, margin: { l: 90, r: 20, t: 40, b: 90 }, xaxis: { title: { text: 'layer.head' }, type: 'category' } },
    config,
  );
}

/** LSH buckets of every token in every round and routing clusters, for the head the lab was asked about. */
export async function drawBuckets(lshRoot: HTMLElement, routingRoot: HTMLElement, s: CaptureSummary): Promise<void> {
  const b = s.lab!.buckets!;
  const tokens = s.tokens;
  const ticks = { tickvals: tokens.map((_, i) => i), ticktext: tokens, tickangle: -60, automargin: true };
  await Plotly.react(
    lshRoot,
    [{
      type: 'heatmap',
      z: b.lsh,
      y: b.lsh.map((_, r) => `round ${r}`),
      text: b.lsh.map((round, r) => round.map((bucket, i) => `${tokens[i]} (${i}): bucket ${bucket} of ${b.lshBucketSizes[r][bucket]} tokens`)),
      hovertemplate: '%{y}<br>%{text}<extra></extra>',
      colorscale: 'Viridis',
      colorbar: { title: { text: 'bucket' } },
    }],
    { ...plotLayout(), margin: { l: 90, r: 20, t: 40, b: 90 }, title: { text: `LSH buckets, head ${b.layer}.${b.head}: ${(100 * b.lshMassOutside).toFixed(1)}% of the attention falls outside` }, xaxis: ticks, yaxis: { autorange: 'reversed' } },
    config,
  );
  await Plotly.react(
    routingRoot,
    [{
      type: 'heatmap',
      z: [b.routing],
      y: ['cluster'],
      text: [b.routing.map((c, i) => `${tokens[i]} (${i}): nearest centroid ${c}, which ${b.routingNearestSizes[c]} keys are nearest; balanced, it takes its top ${b.routingClusterSizes[c]}`)],
      hovertemplate: '%{text}<extra></extra>',
      colorscale: 'Viridis',
      colorbar: { title: { text: 'cluster' } },
    }],
    { ...plotLayout(), margin: { l: 90, r: 20, t: 40, b: 90 }, title: { text: `Routing: each key's nearest centroid (raw assignment; the balanced clusters take ${b.routingClusterSizes[0]} keys each): ${(100 * b.routingMassOutside).toFixed(1)}% of the attention falls outside` }, xaxis: ticks },
    config,
  );
}
