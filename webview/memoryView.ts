// The memory view: attention memory of every method against n on log-log axes, the user's n
// marked, and the table of the estimate at that n. The host formats every figure.
import Plotly from 'plotly.js-dist';
import type { MemoryChart } from '../src/protocol';
import { note, scrolling, tableOf } from './elements';
import { exportButtons } from './exports';
import type { HostApi } from './hostApi';
import { PLOT_CONFIG, plotLayout, themeColor } from './theme';

/** n, batch, dtype, mode and the kernel; a change asks the host for the estimate again. */
function controlsOf(chart: MemoryChart, host: HostApi): HTMLElement {
  const c = chart.controls;
  const bar = document.createElement('div');
  bar.className = 'controls memory-controls';
  const labelled = (text: string, input: HTMLElement): HTMLLabelElement => {
    const label = document.createElement('label');
    label.className = 'picker';
    label.append(text, input);
    return label;
  };
  const number = (id: string, value: number): HTMLInputElement => {
    const input = document.createElement('input');
    input.type = 'number';
    input.id = id;
    input.min = '1';
    input.step = '1';
    input.value = String(value);
    return input;
  };
  const select = (id: string, value: string, options: string[]): HTMLSelectElement => {
    const el = document.createElement('select');
    el.id = id;
    for (const o of options) el.add(new Option(o, o, false, o === value));
    return el;
  };
  const seq = number('memory-seq', c.seq);
  const batch = number('memory-batch', c.batch);
  const dtype = select('memory-dtype', c.dtype, c.dtypes);
  const mode = select('memory-mode', c.mode, c.modes);
  const fused = document.createElement('input');
  fused.type = 'checkbox';
  fused.id = 'memory-fused';
  fused.checked = c.fusedKernel;
  const send = (): void => {
    const whole = (input: HTMLInputElement, fallback: number): number => {
      const v = Math.round(Number(input.value));
      return Number.isFinite(v) && v >= 1 ? v : fallback;
    };
    host.postMessage({ type: 'memoryControls', seq: whole(seq, c.seq), batch: whole(batch, c.batch), dtype: dtype.value, mode: mode.value, fusedKernel: fused.checked });
  };
  for (const el of [seq, batch, dtype, mode, fused]) el.addEventListener('change', send);
  bar.append(labelled('n', seq), labelled('batch', batch), labelled('dtype', dtype), labelled('mode', mode), labelled('fused kernel', fused));
  return bar;
}

export function renderMemory(app: HTMLElement, chart: MemoryChart, host: HostApi): Promise<void> {
  app.replaceChildren();
  const header = document.createElement('header');
  header.textContent = chart.title;
  const plot = document.createElement('div');
  plot.id = 'memory-plot';
  const parts: HTMLElement[] = [header];
  if (chart.problem) {
    parts.push(note(`${chart.problem} (the figures are the last ones)`, 'warning'));
  }
  const peak = tableOf([], chart.peak);
  peak.id = 'memory-peak';
  parts.push(
    controlsOf(chart, host),
    scrolling(peak),
    scrolling(tableOf(chart.parts.header, chart.parts.rows)),
    exportButtons(host, 'attention-memory', () => plot, () => chart, () => [chart.table.header, ...chart.table.rows]),
    plot,
    scrolling(tableOf(chart.table.header, chart.table.rows)),
  );
  app.append(...parts);
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
    plotLayout({
      xaxis: { type: 'log', title: { text: 'sequence length n (tokens)' } },
      yaxis: { type: 'log', title: { text: 'attention memory, all layers' }, tickvals: chart.byteTicks.values, ticktext: chart.byteTicks.text },
      legend: { orientation: 'h', y: -0.25 },
      margin: { l: 80, r: 20, t: 10, b: 60 },
    }),
    PLOT_CONFIG,
  );
}
