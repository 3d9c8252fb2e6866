// The compare panel: two captures side by side (one model on two texts, or two checkpoints of one
// shape). The same head of both, asked of the host as one pair of tiles, their difference cell by
// cell where the token counts agree, and a head statistic's difference in every head, whose cells
// pick the head. Captures of different layers or heads are not compared: one line says why.
import type { CaptureSummary, CompareSummary, HeadSummary, HeadTile, HostMessage, WebviewState } from '../src/protocol';
import { modelName, shapeMismatch, textPreview } from '../src/protocol';
import { setChartTitle } from './chartTitle';
import { colorChoice, colorControls } from './colorControls';
import { comparisonKind, layerShape, statisticDifferenceBound, statisticDifferences, tileDifference, tokenMismatch } from './comparison';
import { dropdown } from './controls';
import { drawDifference, drawStatisticDifferences } from './differenceView';
import { note, plotDiv } from './elements';
import { exportButtons } from './exports';
import { partName } from './headDescriptions';
import { drawHead, drawTile, layerAxes } from './headView';
import { zoomedWindow } from './zoomedWindow';
import type { HostApi } from './hostApi';
import { overviewStatistics } from './overviewView';
import { panelRequests } from './panelRequests';

// Above this many tokens a head is drawn from tiles of at most TILE_CELLS a side, as in the attention panel.
const TILED_ABOVE = 256;
const TILE_CELLS = 256;
const EXPORT_TEXT_CHARS = 40;

type Pair = { first: HeadTile; second: HeadTile };

export interface ComparePanel {
  /** a compare message: the two summaries, at first or after either panel showed another capture */
  show(compare: CompareSummary): void;
  /** a reply to the panel's requests, or the notice that a capture is gone */
  message(m: HostMessage): void;
  /** draws the panel again (a theme change) */
  repaint(): void;
}

/** A capture in a few words: its model and the start of its text (the probe, a corpus). */
function captureName(s: CaptureSummary, chars = 24): string {
  const text = s.probe ? 'the induction probe' : s.source?.corpus ? `the corpus ${modelName(s.source.corpus)}` : `“${textPreview(s.source?.text ?? s.tokens.join(' '), chars)}”`;
  return `${s.modelLabel?.name ?? modelName(s.modelPath)} ${text}`;
}

// the statistic grid's height: its axes and title, and a row of cells a layer
const STATS_FRAME_PX = 160;
const STATS_LAYER_PX = 48;

/** A tile that is a whole head, cell by cell: drawn as the head, with its tokens in the hover. */
const isWholeHead = (t: HeadTile): boolean => t.rowStep === 1 && t.colStep === 1 && t.rows === t.queries && t.cols === t.keys;

/** A tile's rows of numbers, for the exports. */
const tileRows = (t: HeadTile): number[][] => Array.from({ length: t.rows }, (_, r) => Array.from(t.values.subarray(r * t.cols, (r + 1) * t.cols)));

export function comparePanel(app: HTMLElement, host: HostApi): ComparePanel {
  let compare: CompareSummary | undefined;
  let pair: Pair | undefined;
  let state: WebviewState = host.getState() ?? { layer: 0, head: 0 };
  const answers = {
    pair: (p: Pair) => {
      pair = p;
      drawPair();
    },
  };
  const requests = panelRequests(host, answers, (_method, message) => {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = message;
    app.appendChild(p);
  });

  const update = (patch: Partial<WebviewState>): void => {
    state = { ...state, ...patch };
    host.setState(state);
  };

  /** The shown layer's token counts, the larger of the two captures': the window that holds both heads. */
  const extent = (c: CompareSummary): { queries: number; keys: number } => {
    const [a, b] = [layerShape(c.first, state.layer), layerShape(c.second, state.layer)];
    return { queries: Math.max(a.queries, b.queries), keys: Math.max(a.keys, b.keys) };
  };
  const isTiled = (c: CompareSummary): boolean => Math.max(extent(c).queries, extent(c).keys) > TILED_ABOVE;

  /** Asks for the pair of the shown head: the window given, or all of it (each capture's clamped to its own). */
  const askPair = (window?: { q0: number; q1: number; k0: number; k1: number }): void => {
    const n = extent(compare!);
    requests.ask({ method: 'pair', params: { layer: state.layer, head: state.head, ...(window ?? { q0: 0, q1: n.queries, k0: 0, k1: n.keys }), maxCells: TILE_CELLS } });
  };

  /** Zooming a tiled heatmap asks for the window shown, in both captures. */
  const followZoom = (plot: HTMLElement): void => {
    plot.classList.add('tiled');
    (plot as unknown as { on(e: string, cb: (ev: Record<string, unknown>) => void): void }).on('plotly_relayout', (ev) => {
      const n = extent(compare!);
      const window = zoomedWindow(ev, n.queries, n.keys);
      if (window) askPair(window === 'all' ? undefined : window);
    });
  };

  const ready = (what: string): void => document.getElementById('view')?.setAttribute('data-ready', what);

  /** The pair shown: each head as the attention panel draws it, and their difference where the token counts agree. */
  function drawPair(): void {
    const c = compare;
    const [firstPlot, secondPlot] = [document.getElementById('compare-first'), document.getElementById('compare-second')];
    if (!c || !pair || !firstPlot || !secondPlot) return;
    const side = (plot: HTMLElement, s: CaptureSummary, t: HeadTile): Promise<void> => {
      const axes = layerAxes(s, state.layer);
      return isWholeHead(t) ? drawHead(plot, axes, { queries: t.rows, keys: t.cols, probs: t.values }) : drawTile(plot, axes, t);
    };
    const drawn = [side(firstPlot, c.first, pair.first), side(secondPlot, c.second, pair.second)];
    const differencePlot = document.getElementById('compare-difference');
    const difference = tileDifference(pair.first, pair.second);
    if (differencePlot && difference) drawn.push(drawDifference(differencePlot, layerAxes(c.first, state.layer), pair.first, difference, pair, colorChoice(state).range));
    void Promise.all(drawn).then(() => {
      // once drawn (plotly's events come with the plot), zooming a long head asks for its window
      const plots = [firstPlot, secondPlot, ...(differencePlot ? [differencePlot] : [])];
      if (isTiled(c)) for (const plot of plots.filter((x) => !x.classList.contains('tiled'))) followZoom(plot);
      ready('compare');
    });
  }

  /** The header: both captures named, what kind of comparison it is, and their shape. */
  function header(c: CompareSummary): HTMLElement {
    const el = document.createElement('header');
    const named = (s: CaptureSummary): HTMLElement => {
      const model = document.createElement('span');
      model.className = 'model';
      model.textContent = captureName(s);
      model.title = `${s.modelLabel?.detail ?? s.modelPath}${s.source?.text ? `\n${s.source.text}` : ''}`;
      return model;
    };
    const heads = c.first.layers.reduce((a, l) => a + l.heads, 0);
    el.append('Comparing ', named(c.first), ' with ', named(c.second), ` · ${comparisonKind(c.first, c.second)} · ${c.first.layers.length} layers, ${heads} heads`);
    return el;
  }

  /** The head chooser, the two heads and their difference, and the statistic grid; `ask`, the pair asked of the host anew (another head), else drawn from what the panel holds. */
  function render(ask = true): void {
    const c = compare!;
    app.replaceChildren(header(c));
    const mismatch = shapeMismatch(c.first, c.second);
    if (mismatch) {
      app.appendChild(note(`These captures cannot be compared head by head: ${mismatch}.`, 'warning'));
      return;
    }
    if (state.layer >= c.first.layers.length) update({ layer: 0, head: 0 });
    if (state.head >= c.first.layers[state.layer].heads) update({ head: 0 });
    const layer = c.first.layers[state.layer];
    const view = document.createElement('div');
    view.id = 'view';
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.append(
      dropdown('Layer', c.first.layers.length, state.layer, (i) => [`${i}: ${c.first.layers[i].name}`, partName(c.first, c.first.layers[i].index)].filter(Boolean).join(' · '), (i) => {
        update({ layer: i, head: Math.min(state.head, c.first.layers[i].heads - 1) });
        render();
      }),
      dropdown('Head', layer.heads, state.head, String, (head) => {
        update({ head });
        render();
      }),
      // the differences' range: -1..1 (a statistic's own reach) or the data's, symmetric about 0
      ...colorControls(colorChoice(state), false, (choice) => {
        update({ colorRange: choice.range });
        render();
      }),
    );
    const heads = document.createElement('div');
    heads.className = 'row compare-heads';
    const firstPlot = plotDiv('compare-first');
    const secondPlot = plotDiv('compare-second');
    for (const plot of [firstPlot, secondPlot]) {
      const column = document.createElement('div');
      column.className = 'compare-head';
      column.appendChild(plot);
      heads.appendChild(column);
    }
    const what = `layer ${layer.index} (${layer.name}) · head ${state.head}`;
    const differs = tokenMismatch(c.first, c.second, state.layer);
    const differencePlot = differs ? undefined : plotDiv('compare-difference');
    const exportsOfHead = exportButtons(
      host,
      () => `compare-${layer.index}-${state.head}`,
      () => differencePlot ?? firstPlot,
      () => ({ layer: layer.index, head: state.head, first: captureName(c.first, EXPORT_TEXT_CHARS), second: captureName(c.second, EXPORT_TEXT_CHARS), ...(pair ? { firstAttention: tileRows(pair.first), secondAttention: tileRows(pair.second), difference: tileDifference(pair.first, pair.second) } : {}) }),
      () => (pair ? (tileDifference(pair.first, pair.second) ?? tileRows(pair.first)) : []),
      () => `${captureName(c.first, EXPORT_TEXT_CHARS)} − ${captureName(c.second, EXPORT_TEXT_CHARS)} · ${what} · attention difference`,
    );
    view.append(controls, exportsOfHead, heads, ...(differencePlot ? [differencePlot] : [note(differs!)]));
    app.appendChild(view);
    setChartTitle(firstPlot, `${captureName(c.first)} · ${what}`);
    setChartTitle(secondPlot, `${captureName(c.second)} · ${what}`);
    if (differencePlot) setChartTitle(differencePlot, 'Difference, first − second (blue: the second attends more; red: the first)');
    statisticGrid(c, view);
    if (!ask && pair) return drawPair();
    pair = undefined;
    askPair();
  }

  /** The chosen head statistic's difference in every head, with its chooser and exports. */
  function statisticGrid(c: CompareSummary, view: HTMLElement): void {
    if (!c.first.analysis || !c.second.analysis) {
      view.appendChild(note('No head statistics to compare: one of the captures has no head analysis.'));
      return;
    }
    const statistics = overviewStatistics(c.first).filter((s) => !s.key.startsWith('recall:'));
    const stat = statistics.find((s) => s.key === state.statistic) ?? statistics[0];
    const key = stat.key as keyof HeadSummary;
    const d = statisticDifferences(c.first, c.second, key);
    const plot = plotDiv('compare-stats');
    // a row a layer, with room for the axes: a model of few layers gets a short grid, not a screenful
    plot.style.height = `min(70vh, ${STATS_FRAME_PX + STATS_LAYER_PX * d.layers.length}px)`;
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.appendChild(
      dropdown('Statistic', statistics.length, statistics.indexOf(stat), (i) => statistics[i].label, (i) => {
        update({ statistic: statistics[i].key });
        render();
      }),
    );
    const rows = (): (string | number | null)[][] => [['layer', 'head', 'first', 'second', 'difference'], ...d.layers.flatMap((layer, l) => d.difference[l].map((v, h) => [layer, h, d.first[l][h], d.second[l][h], v]))];
    const title = `${captureName(c.first, EXPORT_TEXT_CHARS)} − ${captureName(c.second, EXPORT_TEXT_CHARS)} · ${stat.label} of every head`;
    view.append(controls, exportButtons(host, `compare-${stat.key}`, () => plot, () => ({ statistic: stat.key, ...d }), rows, title), plot);
    setChartTitle(plot, `${stat.label}: first − second in every head (click a head to show it)`);
    const layerNames = c.first.layers.map((l) => (l.part ? `${l.index} ${l.part}` : String(l.index)));
    void drawStatisticDifferences(plot, d, stat.label, statisticDifferenceBound(c.first, c.second, key), colorChoice(state).range, layerNames, (layer, head) => {
      update({ layer, head });
      render();
    }).then(() => plot.setAttribute('data-ready', 'stats'));
  }

  return {
    show(next) {
      compare = next;
      render();
    },
    message(m) {
      if (m.type === 'reply') requests.settle(m);
      else if (m.type === 'notice') app.replaceChildren(note(m.message));
    },
    repaint() {
      if (compare && document.getElementById('view')) render(false);
    },
  };
}
