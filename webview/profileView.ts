// The memory profiler's view: peak memory against n on log-log axes (measured components, the
// estimate beside them, the fit extrapolated), one run's timeline of memory in use operator by
// operator with attention's operators marked, the top operators by memory and by time, and time
// against n with attention's share. Every chart and table exports.
import Plotly from 'plotly.js-dist';
import type { MemoryProfile, ProfilePoint, TimelineStep } from '../src/analysis/memoryProfile';
import { binaryBytes } from '../src/analysis/units';
import { note, plotDiv, scrolling, tableOf } from './elements';
import { exportButtons } from './exports';
import type { HostApi } from './hostApi';
import { PLOT_CONFIG, plotLayout, themeColor } from './theme';

const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '' : `${v > 0 ? '+' : ''}${v.toFixed(1)}%`);

/** A table (its header never empty here) in a strip that scrolls sideways. */
const table = (header: string[], rows: (string | number)[][]): HTMLElement => scrolling(tableOf(header, rows));

function section(title: string): HTMLElement {
  return Object.assign(document.createElement('h3'), { textContent: title });
}

const profilePlot = (id: string): HTMLElement => plotDiv(id, 'profile-plot');

/** Byte ticks at powers of two, labelled in binary units, over the values drawn. */
function byteAxis(values: number[]): { tickvals: number[]; ticktext: string[] } {
  const positive = values.filter((v) => v > 0);
  const lo = Math.floor(Math.log2(Math.min(...positive)));
  const hi = Math.ceil(Math.log2(Math.max(...positive)));
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  const tickvals: number[] = [];
  for (let e = lo; e <= hi; e += step) tickvals.push(2 ** e);
  return { tickvals, ticktext: tickvals.map(binaryBytes) };
}

/** Byte ticks at even steps (1, 2 or 5 times a power of two) over a linear axis. */
function linearByteAxis(values: number[]): { tickvals: number[]; ticktext: string[]; range: number[] } {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const raw = Math.max(1, (hi - lo) / 5);
  const unit = 2 ** Math.floor(Math.log2(raw));
  const step = [1, 2, 4, 8].map((m) => m * unit).find((s) => s >= raw) ?? 8 * unit;
  const tickvals: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step; t += step) tickvals.push(t);
  return { tickvals, ticktext: tickvals.map(binaryBytes), range: [tickvals[0], tickvals.at(-1)!] };
}

const estimated = (bytes: number | undefined): string => (bytes === undefined ? '' : binaryBytes(bytes));

// the differences in words stay in the exports: the table has the figures
const pointRows = (points: ProfilePoint[]): (string | number)[][] =>
  points.map((p) => [
    p.n,
    p.batch,
    ms(p.wallMs),
    binaryBytes(p.peakBytes),
    estimated(p.estimate?.peakBytes),
    pct(p.errorPercent?.peak),
    binaryBytes(p.arenaBytes),
    p.rssBytes === null ? '' : binaryBytes(p.rssBytes),
    binaryBytes(p.attentionBytes),
    estimated(p.estimate?.attentionBytes),
    pct(p.errorPercent?.attention),
    ...(p.tapped ? [binaryBytes(p.tapped.peakBytes)] : []),
  ]);

export function renderProfile(app: HTMLElement, profile: MemoryProfile, host: HostApi): Promise<unknown> {
  app.replaceChildren();
  const header = document.createElement('header');
  header.textContent = `${profile.model} · ${profile.points.length} points · ran on ${profile.executionProvider.toUpperCase()} · memory pattern ${profile.settings.memPattern ? 'on' : 'off'}, CPU arena ${profile.settings.cpuArena ? 'on' : 'off'} · ${profile.input}`;
  app.appendChild(header);
  const notes = [...(profile.stopped ? [profile.stopped] : []), ...profile.notes];
  const longest = Math.max(profile.maxPositions ?? 0, ...profile.points.map((p) => p.n), ...profile.extrapolations.map((e) => e.n));
  const fit = profile.budget.fitsUpTo === null ? '' : `fits in ${binaryBytes(profile.budget.bytes)} (${profile.budget.from}) up to n = ${profile.budget.fitsUpTo}${profile.budget.fitsUpTo === longest ? ' (every n considered)' : ''}`;
  const exps = (['peakBytes', 'attentionBytes', 'otherActivationBytes', 'wallMs'] as const)
    .map((k) => [k, profile.fit[k].exponent] as const)
    .filter(([, e]) => e !== null)
    .map(([k, e]) => `${{ peakBytes: 'peak', attentionBytes: 'attention', otherActivationBytes: 'other activations', wallMs: 'time' }[k]} n^${e!.toFixed(2)}`);
  const summary = document.createElement('p');
  summary.className = 'note';
  summary.textContent = [exps.length ? `grows as ${exps.join(', ')}` : '', fit, ...profile.extrapolations.map((e) => `at n = ${e.n}${e.extrapolated ? ' (extrapolated)' : ''}: peak ${binaryBytes(e.peakBytes)}, attention ${binaryBytes(e.attentionBytes)}, ${ms(e.wallMs)}`)].filter(Boolean).join(' · ');
  app.appendChild(summary);
  for (const n of notes) app.appendChild(note(n, n === profile.stopped ? 'warning' : 'note'));
  if (profile.points.length === 0) return Promise.resolve();

  const batch = profile.points[0].batch;
  const first = profile.points.filter((p) => p.batch === batch);
  const ns = first.map((p) => p.n);
  const accent = themeColor('--vscode-charts-orange', '#d18616');
    // peak memory against n
  const peak = profilePlot('profile-peak');
  // the tapped pass (a setting): each point's peak on the copy a capture runs
  const tapped = profile.points.some((p) => p.tapped);
  const pointsHeader = ['n', 'batch', 'wall', 'peak', 'estimate', 'error', 'arena', 'RSS', 'attention, all layers', 'estimate', 'error', ...(tapped ? ['tapped peak'] : [])];
  const csvHeader = ['n', 'batch', 'wall ms', 'peak bytes', 'estimated peak bytes', 'peak error %', 'arena bytes', 'RSS bytes', 'attention bytes', 'estimated attention bytes', 'attention error %', 'differences', ...(tapped ? ['tapped peak bytes'] : [])];
  app.append(
    section('Peak memory against n'),
    exportButtons(host, 'memory-profile', () => peak, () => profile, () => [csvHeader, ...profile.points.map((p) => [p.n, p.batch, p.wallMs, p.peakBytes, p.estimate?.peakBytes ?? null, p.errorPercent?.peak ?? null, p.arenaBytes, p.rssBytes, p.attentionBytes, p.estimate?.attentionBytes ?? null, p.errorPercent?.attention ?? null, (p.differences ?? []).join('; '), ...(tapped ? [p.tapped?.peakBytes ?? null] : [])])], 'peak memory against n'),
    peak,
  );
  const series = (name: string, ys: number[], extra: object = {}): object => ({ type: 'scatter', mode: 'lines+markers', name, x: ns, y: ys, customdata: ys.map(binaryBytes), hovertemplate: `${name}<br>n = %{x}<br>%{customdata}<extra></extra>`, ...extra });
  const traces: object[] = [
    ...[...new Set(profile.points.map((p) => p.batch))].map((b) => {
      const ps = profile.points.filter((p) => p.batch === b);
      return { ...series(`peak in use, batch ${b}`, ps.map((p) => p.peakBytes), { line: { width: 3 } }), x: ps.map((p) => p.n) };
    }),
    series('weights', first.map((p) => p.weightsBytes), { mode: 'lines', line: { dash: 'dot', color: themeColor('--vscode-descriptionForeground', '#717171') } }),
    // summed over the layers, as the estimate counts them: one layer's are alive at a time
    series('attention probabilities, all layers', first.map((p) => p.attentionBytes), { line: { color: accent } }),
    series('other activations (outputs summed)', first.map((p) => p.otherActivationBytes)),
  ];
  if (first.some((p) => p.kvCacheBytes > 0)) traces.push(series('key/value cache', first.map((p) => p.kvCacheBytes)));
  if (first.some((p) => p.tapped)) traces.push(series('peak of the tapped copy (a capture)', first.map((p) => p.tapped?.peakBytes ?? 0), { line: { dash: 'dashdot' } }));
  if (first.some((p) => p.estimate)) traces.push(series('estimate: attention probabilities', first.map((p) => p.estimate?.attentionBytes ?? 0), { mode: 'lines', line: { dash: 'dash', color: accent } }));
  if (first.some((p) => p.estimate?.peakBytes !== undefined)) traces.push(series('estimate: peak', first.map((p) => p.estimate?.peakBytes ?? 0), { mode: 'lines', line: { dash: 'dash', color: themeColor('--vscode-charts-blue', '#1f77b4') } }));
  const far = profile.extrapolations.filter((e) => e.extrapolated);
  if (far.length) {
    const last = first.at(-1)!;
    traces.push({ ...series('fit, extrapolated: peak', [last.peakBytes, ...far.map((e) => e.peakBytes)], { mode: 'lines', line: { dash: 'dot', width: 1 } }), x: [last.n, ...far.map((e) => e.n)] });
  }
  const allBytes = traces.flatMap((t) => (t as { y: number[] }).y);
  const nTicks = [...new Set([...profile.points.map((p) => p.n), ...far.map((e) => e.n)])].sort((a, b) => a - b);
  const peakPlot = Plotly.react(peak, traces, plotLayout({ xaxis: { type: 'log', title: { text: 'sequence length n (tokens)' }, tickvals: nTicks }, yaxis: { type: 'log', title: { text: 'bytes' }, ...byteAxis(allBytes) }, legend: { orientation: 'h', y: -0.25 }, margin: { l: 80, r: 20, t: 10, b: 60 } }), PLOT_CONFIG);
  app.appendChild(table(pointsHeader, pointRows(profile.points)));

  // one run's timeline
  const steps: TimelineStep[] = profile.timeline.steps;
  const timeline = profilePlot('profile-timeline');
  const picked = document.createElement('p');
  picked.className = 'note';
  picked.id = 'profile-node';
  picked.textContent = 'click an operator to see it here';
  const stepHover = (s: TimelineStep): string => `${s.node}<br>${s.op}${s.attention ? ' (attention)' : ''}<br>in ${s.inputShapes}<br>out ${s.outputShapes}<br>in use ${binaryBytes(s.inUseBytes)}, output ${binaryBytes(s.outputBytes)}, ${ms(s.durationMs)}`;
  const timelineHeader = ['step', 'node', 'op', 'attention', 'in use bytes', 'output bytes', 'ms', 'inputs', 'outputs'];
  app.append(
    section(`One run, operator by operator (n = ${profile.timeline.n}, batch ${profile.timeline.batch})`),
    exportButtons(host, 'memory-timeline', () => timeline, () => profile.timeline, () => [timelineHeader, ...steps.map((s, i) => [i, s.node, s.op, s.attention ? 'yes' : '', s.inUseBytes, s.outputBytes, s.durationMs, s.inputShapes, s.outputShapes])], `memory in use at each operator, n = ${profile.timeline.n}`),
    timeline,
    picked,
  );
  if (profile.settings.memPattern) {
    app.insertBefore(note("the memory pattern is on: ONNX Runtime allocates the run's planned memory as one block when the run starts, so memory in use changes little from operator to operator (profile with the memory pattern off to see each operator's allocations)"), timeline);
  }
  const indices = steps.map((_, i) => i);
  const attentionSteps = indices.filter((i) => steps[i].attention);
  const timelinePlot = Plotly.react(
    timeline,
    [
      { type: 'scatter', mode: 'lines', name: 'in use', x: indices, y: steps.map((s) => s.inUseBytes), line: { shape: 'hv', width: 2 }, text: steps.map(stepHover), hovertemplate: '%{text}<extra></extra>' },
      { type: 'scatter', mode: 'markers', name: 'attention operators', x: attentionSteps, y: attentionSteps.map((i) => steps[i].inUseBytes), marker: { color: accent, size: 8, symbol: 'diamond' }, text: attentionSteps.map((i) => stepHover(steps[i])), hovertemplate: '%{text}<extra></extra>' },
    ],
    plotLayout({ xaxis: { title: { text: 'operator, in execution order' } }, yaxis: { title: { text: 'memory in use' }, ...linearByteAxis(steps.map((s) => s.inUseBytes)) }, legend: { orientation: 'h', y: -0.25 }, margin: { l: 80, r: 20, t: 10, b: 60 } }),
    PLOT_CONFIG,
  ).then(() => {
    (timeline as unknown as { on(e: string, f: (d: { points: { x: number }[] }) => void): void }).on('plotly_click', (d) => {
      const s = steps[d.points[0]?.x];
      if (s) picked.textContent = `step ${d.points[0].x}: ${s.node} · ${s.op}${s.attention ? ' (attention)' : ''} · in ${s.inputShapes} · out ${s.outputShapes} · in use ${binaryBytes(s.inUseBytes)} · output ${binaryBytes(s.outputBytes)} · ${ms(s.durationMs)}`;
    });
  });

  // top operators of the largest point
  const largest = profile.points.reduce((a, b) => (b.n * b.batch > a.n * a.batch ? b : a));
  const opRows = (list: ProfilePoint['operators']['byBytes']): (string | number)[][] => list.map((o) => [o.node, o.op, o.attention ? 'attention' : '', binaryBytes(o.outputBytes), ms(o.durationMs)]);
  const opsHeader = ['node', 'op', '', 'output', 'time'];
  app.append(
    section(`Top operators at n = ${largest.n}, batch ${largest.batch}`),
    exportButtons(host, 'memory-operators', () => null, () => largest.operators, () => [['list', 'node', 'op', 'attention', 'output bytes', 'ms'], ...(['byBytes', 'byTime'] as const).flatMap((k) => largest.operators[k].map((o) => [k, o.node, o.op, o.attention ? 'yes' : '', o.outputBytes, o.durationMs]))]),
  );
  const row = document.createElement('div');
  row.className = 'row';
  const by = (title: string, el: HTMLElement): HTMLElement => {
    const d = document.createElement('div');
    d.append(Object.assign(document.createElement('strong'), { textContent: title }), el);
    return d;
  };
  row.append(by('by memory (output)', table(opsHeader, opRows(largest.operators.byBytes))), by('by time', table(opsHeader, opRows(largest.operators.byTime))));
  app.appendChild(row);

  // time against n, with attention's share
  const time = profilePlot('profile-time');
  app.append(section('Time against n'), exportButtons(host, 'memory-time', () => time, () => first.map((p) => ({ n: p.n, wallMs: p.wallMs, attentionMs: p.attentionMs, operatorMs: p.operatorMs })), () => [['n', 'wall ms', 'attention ms', 'operators ms'], ...first.map((p) => [p.n, p.wallMs, p.attentionMs, p.operatorMs])], 'time against n'), time);
  const timePlot = Plotly.react(
    time,
    [
      { type: 'scatter', mode: 'lines+markers', name: 'wall time', x: ns, y: first.map((p) => p.wallMs), hovertemplate: 'n = %{x}<br>%{y:.2f} ms<extra></extra>' },
      { type: 'scatter', mode: 'lines+markers', name: "attention's share of operator time", x: ns, y: first.map((p) => (p.operatorMs > 0 ? (100 * p.attentionMs) / p.operatorMs : 0)), yaxis: 'y2', line: { color: accent, dash: 'dash' }, hovertemplate: 'n = %{x}<br>attention %{y:.1f}%<extra></extra>' },
    ],
    plotLayout({ xaxis: { type: 'log', title: { text: 'sequence length n (tokens)' }, tickvals: ns }, yaxis: { type: 'log', title: { text: 'ms' } }, yaxis2: { type: 'linear', tickmode: 'auto', overlaying: 'y', side: 'right', range: [0, 100], showgrid: false, title: { text: "attention's share, %" } }, legend: { orientation: 'h', y: -0.25 }, margin: { l: 80, r: 60, t: 10, b: 60 } }),
    PLOT_CONFIG,
  );
  return Promise.all([peakPlot, timelinePlot, timePlot]);
}
