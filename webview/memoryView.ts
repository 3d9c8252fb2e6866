// The memory view: attention memory of every method against n on log-log axes, the user's n
// marked, and the table of the estimate at that n. The host formats every figure.
import Plotly from 'plotly.js-dist';
import type { MemoryChart } from '../src/protocol';
import { exportButtons } from './exports';
import type { HostApi } from './hostApi';
import { plotLayout, themeColor } from './theme';

export function renderMemory(app: HTMLElement, chart: MemoryChart, host: HostApi): Promise<void> {
  app.replaceChildren();
  const header = document.createElement('header');
  header.textContent = chart.title;
  const plot = document.createElement('div');
  plot.id = 'memory-plot';
  const table = document.createElement('table');
  table.className = 'estimate';
  const head = table.createTHead().insertRow();
  for (const h of chart.table.header) {
    const th = document.createElement('th');
    th.textContent = h;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const cells of chart.table.rows) {
    const row = body.insertRow();
    for (const cell of cells) row.insertCell().textContent = cell;
  }
  const scroll = document.createElement('div');
  scroll.className = 'scroll-x';
  scroll.appendChild(table);
  app.append(header, exportButtons(host, 'attention-memory', () => plot, () => chart, () => [chart.table.header, ...chart.table.rows]), plot, scroll);
  const all = chart.series.flatMap((s) => s.bytes).filter((b) => b > 0);
  const traces = chart.series.map((s) => ({
    type: 'scatter',
    mode: 'lines',
    name: s.label,
    x: s.seq,
    y: s.bytes,
    line: { width: s.method === 'dense' ? 3 : 1.5 },
    customdata: s.bytesText,
    hovertemplate: `${s.label}<br>n = %{x}<br>%{customdata}<extra></extra>`,
  }));
  const yourN = {
    type: 'scatter',
    mode: 'lines',
    name: `your n = ${chart.seq}`,
    x: [chart.seq, chart.seq],
    y: [Math.min(...all), Math.max(...all)],
    line: { dash: 'dot', color: themeColor('--vscode-editorWarning-foreground', '#cca700') },
    hoverinfo: 'skip',
  };
  return Plotly.react(
    plot,
    [...traces, yourN],
    {
      ...plotLayout(),
      xaxis: { type: 'log', title: { text: 'sequence length n (tokens)' } },
      yaxis: { type: 'log', title: { text: 'attention memory, all layers' }, tickvals: chart.byteTicks.values, ticktext: chart.byteTicks.text },
      legend: { orientation: 'h', y: -0.25 },
      margin: { l: 80, r: 20, t: 10, b: 60 },
    },
    { displaylogo: false, responsive: true },
  );
}
