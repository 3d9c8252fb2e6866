// The efficient-attention lab's methods: at equal budget (ranked), recall against budget, and
// every method's recall on every head; one categorical colour per method throughout.
import Plotly from 'plotly.js-dist';
import type { CaptureSummary } from '../src/protocol';
import { setChartTitle } from './chartTitle';
import { methodName } from './methodNames';
import { CATEGORICAL } from './colorMaps';
import { colorScale, valueRange } from './colorScale';
import { PLOT_CONFIG, plotLayout, themeColor } from './theme';

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
  const colorOf = (m: string): string => CATEGORICAL[all.indexOf(m) % CATEGORICAL.length];
  const names = [...eq.ranking, ...Object.keys(eq.methods).filter((m) => !eq.ranking.includes(m))];
  const at = names.map((m) => eq.methods[m]);
  const over = (m: (typeof at)[number]): boolean => !m.withinBudget;
  const fg = themeColor('--vscode-editor-foreground', '#333');
  await Plotly.react(
    bars,
    [
      {
        type: 'bar',
        name: 'mean recall',
        x: names.map(methodName),
        y: at.map((m) => m.meanRecall),
        // the ranked methods come first, in their order
        text: at.map((m, i) => (over(m) ? 'over budget' : `#${i + 1}`)),
        textposition: 'outside',
        customdata: at.map((m) =>
          `${paramsText(m.params)}<br>${Math.round(m.scoresComputed).toLocaleString('en')} scores per head on average,<br>${m.maxScoresComputed.toLocaleString('en')} at most` +
          (over(m) ? '<br>cannot meet the budget at this n:<br>shown at its cheapest setting, not ranked' : ''),
        ),
        hovertemplate: '%{x}: mean recall %{y:.3f}<br>%{customdata}<extra></extra>',
        marker: { color: names.map(colorOf), pattern: { shape: at.map((m) => (over(m) ? '/' : '')), fillmode: 'overlay', solidity: 0.5 } },
      },
      {
        type: 'scatter',
        mode: 'markers',
        name: 'scores computed per head',
        x: names.map(methodName),
        y: at.map((m) => m.scoresComputed),
        yaxis: 'y2',
        marker: { symbol: 'diamond', size: 11, color: fg, line: { width: 0 } },
        hovertemplate: '%{x}: %{y:,.0f} scores per head<extra></extra>',
      },
    ],
    plotLayout({
      margin: { l: 60, r: 60, t: 10, b: 60 },
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: 1, yanchor: 'bottom' },
      xaxis: { tickangle: -90 },
      yaxis: { title: { text: 'mean recall over heads' }, range: [0, 1.1] },
      yaxis2: { title: { text: 'scores computed per head' }, overlaying: 'y', side: 'right', showgrid: false, rangemode: 'tozero' },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y2', y0: eq.budget, y1: eq.budget, line: { dash: 'dash', width: 1, color: fg } }],
      annotations: [{ xref: 'paper', x: 0, xanchor: 'left', yref: 'y2', y: eq.budget, yanchor: 'bottom', text: `budget ${eq.budget.toLocaleString('en')}`, showarrow: false }],
    }),
    PLOT_CONFIG,
  );
  const c = lab.budgetCurves;
  await Plotly.react(
    curves,
    Object.entries(c.methods).map(([m, v]) => ({
      type: 'scatter',
      mode: 'lines+markers',
      name: methodName(m),
      x: c.budgets,
      y: v.meanRecall,
      customdata: v.scoresComputed,
      connectgaps: false,
      line: { color: colorOf(m) },
      hovertemplate: `${methodName(m)} at budget %{x:,}:<br>mean recall %{y:.3f}, %{customdata:,.0f} scores per head<extra></extra>`,
    })),
    plotLayout({
      margin: { l: 60, r: 20, t: 10, b: 60 },
      legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
      // a label a decade: the 2s and 5s between them overprint in a narrow panel
      xaxis: { title: { text: 'budget: scores per head' }, type: 'log', dtick: 1 },
      yaxis: { title: { text: 'mean recall' }, range: [0, 1.02] },
      shapes: [{ type: 'line', x0: eq.budget, x1: eq.budget, yref: 'paper', y0: 0, y1: 1, line: { dash: 'dot', width: 1, color: fg } }],
    }),
    PLOT_CONFIG,
  );
  const recalls = all.map((m) => lab.heads.map((h) => h.methods.find((x) => x.method === m)?.recall ?? null));
  await Plotly.react(
    detail,
    [{
      type: 'heatmap',
      z: recalls,
      x: lab.heads.map((h) => `${h.layer}.${h.head}`),
      y: all.map(methodName),
      hovertemplate: '%{y} on head %{x}: recall %{z:.3f}<extra></extra>',
      ...colorScale('recall', [0, 1], valueRange(recalls.flat()), 'fixed', 'linear', { lying: true }).trace,
    }],
    plotLayout({ margin: { l: 60, r: 20, t: 10, b: 60 }, xaxis: { title: { text: 'layer.head' }, type: 'category' }, yaxis: { type: 'category' } }),
    PLOT_CONFIG,
  );
  setChartTitle(bars, `Equal budget: at most ${eq.budget.toLocaleString('en')} scores per head (n = ${s.tokens.length}); hatched: cannot meet it`);
  setChartTitle(curves, `Recall against budget (${c.heads.length} of ${lab.heads.length} heads; a gap: the method cannot meet that budget)`);
  setChartTitle(detail, "Each method at the lab's settings, head by head");
}
