// The attention panel: a header, tabs for the overview, one head, spans, relative offsets and
// methods; one head's matrix is asked of the host when shown.
import { CaptureSummary, HeadMatrix, HeadTile, HostMessage, PanelMethod, WebviewState, modelName, textPreview } from '../src/protocol';
import { drawBuckets } from './bucketsView';
import { colorChoice, colorControls } from './colorControls';
import { checkbox, dropdown } from './controls';
import { note, plotDiv, tabBar } from './elements';
import { crossHeadsNote, partName } from './headDescriptions';
import { drawMethods } from './methodsView';
import { drawEmbedding, drawOverview, overviewStatistics } from './overviewView';
import { drawRelative, drawSpans } from './spansView';
import { exportButtons } from './exports';
import Plotly from 'plotly.js-dist';
import { Axes, drawHead, drawTile } from './headView';
import { layerTokens } from '../src/analysis/attentionCapture';
import { LINE_VIEW_MAX_TOKENS, drawLines } from './lineView';
import { fixedPattern, localPattern, spanMask, stridedPattern } from '../src/analysis/sparsePatterns';
import { fixedSummaryColumns } from '../src/analysis/patternCounts';
import { HEAD_STAT_KEYS } from '../src/analysis/headStatKeys';
import { HostApi } from './hostApi';
import { PanelAnswers, PanelRequests, panelRequests } from './panelRequests';
import { showRollout } from './rolloutView';
import { predictionsList } from './predictionsView';

let host: HostApi;
let requests: PanelRequests;
let app: HTMLElement;
let summary: CaptureSummary | undefined;
let state: WebviewState = { layer: 0, head: 0 };
let shownMatrix: HeadMatrix | undefined;
let shownTile: HeadTile | undefined;
/** word labels when the shown matrix is between words */
let shownLabels: { queries: string[]; keys: string[] } | undefined;

const RAMP = 32;
const OVERLAYS: { name: string; label: string; pattern: (p: number) => ((i: number, j: number) => boolean) | undefined }[] = [
  { name: 'none', label: 'none', pattern: () => undefined },
  { name: 'local', label: 'local window (w)', pattern: (w) => localPattern(w) },
  { name: 'strided', label: 'strided (l)', pattern: (l) => stridedPattern(l) },
  { name: 'fixed', label: 'fixed (l, c = l/8)', pattern: (l) => fixedPattern(l, fixedSummaryColumns(l)) },
  { name: 'adaptiveSpan', label: `adaptive span (z, R = ${RAMP})`, pattern: (z) => (i, j) => spanMask(Math.abs(i - j), z, RAMP) > 0 },
];

// Above this many tokens a head is drawn from tiles of at most TILE_CELLS a side, never whole.
const TILED_ABOVE = 256;
const TILE_CELLS = 256;

/** The shown layer's query and key tokens: in an encoder-decoder, the target's or the source's. */
function layerAxes(s: CaptureSummary): Axes {
  const part = s.layers[state.layer]?.part;
  const sides = layerTokens(s, part);
  const titles = part ? { queryTitle: part === 'encoder' ? 'query (source)' : 'query (target)', keyTitle: part === 'decoder' ? 'key (target)' : 'key (source)' } : {};
  return { queries: sides.queries.tokens, keys: sides.keys.tokens, ...titles };
}

/** Heads longer than a screen are drawn from tiles. */
const isTiled = (a: Axes): boolean => Math.max(a.queries.length, a.keys.length) > TILED_ABOVE;

function requestHead(): void {
  const a = summary ? layerAxes(summary) : { queries: [], keys: [] };
  if (isTiled(a)) requestTile(0, a.queries.length, 0, a.keys.length);
  else requests.ask({ method: 'head', params: { layer: state.layer, head: state.head, words: !!state.words } });
  host.setState(state);
}

function requestTile(q0: number, q1: number, k0: number, k1: number): void {
  requests.ask({ method: 'tile', params: { layer: state.layer, head: state.head, q0, q1, k0, k1, maxCells: TILE_CELLS } });
}

/** Zooming asks for the tile of the window shown. */
function followZoom(plot: HTMLElement): void {
  (plot as unknown as { on(e: string, cb: (ev: Record<string, number | boolean>) => void): void }).on('plotly_relayout', (ev) => {
    const a = layerAxes(summary!);
    const [nq, nk] = [a.queries.length, a.keys.length];
    if (ev['xaxis.autorange'] || ev['yaxis.autorange']) return requestTile(0, nq, 0, nk);
    const x0 = ev['xaxis.range[0]'];
    const x1 = ev['xaxis.range[1]'];
    const y0 = ev['yaxis.range[0]'];
    const y1 = ev['yaxis.range[1]'];
    if (typeof x0 !== 'number' || typeof y0 !== 'number') return;
    const clamp = (v: number, n: number): number => Math.max(0, Math.min(n, v));
    const [k0, k1] = [clamp(Math.floor(Math.min(x0, x1 as number)), nk), clamp(Math.ceil(Math.max(x0, x1 as number)) + 1, nk)];
    const [q0, q1] = [clamp(Math.floor(Math.min(y0, y1 as number)), nq), clamp(Math.ceil(Math.max(y0, y1 as number)) + 1, nq)];
    if (k1 > k0 && q1 > q0) requestTile(q0, q1, k0, k1);
  });
}

const VIEWS = ['overview', 'head', 'spans', 'relative', 'rollout', 'methods', 'buckets'] as const;
/** shows which tab is active: the bar's, once render has drawn it */
let markTab: (view: (typeof VIEWS)[number]) => void = () => {};

function render(s: CaptureSummary): void {
  summary = s;
  // A new model or text opens on the overview; the same one (a reload, a head map) stays where it was.
  const fresh = state.source !== undefined && JSON.stringify(state.source) !== JSON.stringify(s.source);
  state = { ...state, source: s.source, ...(fresh ? { view: 'overview' } : {}) };
  // the induction probe opens coloured by its score, unless the user chose another for it
  if (s.probe && (fresh || state.statistic === undefined)) state = { ...state, statistic: 'induction' };
  if (state.layer >= s.layers.length) state = { ...state, layer: 0, head: 0 };
  if (state.head >= s.layers[state.layer].heads) state = { ...state, head: 0 };
  app.replaceChildren();
  const header = document.createElement('header');
  const heads = s.layers.reduce((a, l) => a + l.heads, 0);
  const length = s.target ? `${s.tokens.length} source and ${s.target.tokens.length} target tokens` : `${s.tokens.length} tokens`;
  const texts = s.analysis && s.analysis.texts > 1 ? ` · statistics over ${s.analysis.texts} texts, heatmaps of the first (${length})` : ` · ${length}`;
  const probe = s.probe ? ` · the induction probe: ${s.probe.length} random tokens shown twice (seed ${s.probe.seed})` : '';
  const model = document.createElement('span');
  model.className = 'model';
  model.textContent = s.modelLabel?.name ?? modelName(s.modelPath);
  model.title = s.modelLabel?.detail ?? s.modelPath;
  const provider = document.createElement('span');
  provider.textContent = `ran on ${s.executionProvider.toUpperCase()}`;
  provider.title = s.executionProviderLine ?? s.executionProvider;
  header.append(model, `${probe}${texts} · ${s.layers.length} layers, ${heads} heads · `, provider);
  // a panel of the editor's runs the model again on another text in place; the report cannot
  if (s.source && !host.saveFile) {
    const again = document.createElement('button');
    again.id = 'run-again';
    again.textContent = 'Run again with…';
    again.title = 'another text for this model, shown in this panel';
    again.addEventListener('click', () => host.postMessage({ type: 'runAgain' }));
    header.appendChild(again);
  }
  app.appendChild(header);
  const analysed = analysedText(s);
  if (analysed) {
    const details = document.createElement('details');
    details.id = 'analysed-text';
    const label = document.createElement('summary');
    label.textContent = s.source?.corpus ? 'First text of the corpus' : 'Text';
    const body = document.createElement('p');
    body.textContent = analysed;
    details.append(label, body);
    app.appendChild(details);
  }
  const predictions = predictionsList(s);
  if (predictions) app.appendChild(predictions);
  for (const w of s.warnings) app.appendChild(note(w, 'warning'));
  const tabs = tabBar(VIEWS, 'view', show);
  markTab = tabs.mark;
  app.appendChild(tabs.nav);
  const view = document.createElement('div');
  view.id = 'view';
  app.appendChild(view);
  show((state.view as (typeof VIEWS)[number]) ?? (s.analysis ? 'overview' : 'head'));
}

/** Tokens read back as words: special tokens left out, WordPiece's ## pieces joined to their word. */
const tokenWords = (tokens: readonly string[]): string =>
  tokens
    .filter((t) => !/^(\[[A-Z]+\]|<\|?[\w|]+\|?>)$/.test(t))
    .join(' ')
    .replace(/ ##/g, '');

/** The text the capture read: the source's, or its tokens (the report, ids); none for the induction probe. */
function analysedText(s: CaptureSummary): string | undefined {
  if (s.probe) return undefined;
  const text = s.source?.ids ? undefined : s.source?.text;
  const target = s.source?.targetText ? `\n→ ${s.source.targetText}` : '';
  return `${text ?? tokenWords(s.tokens)}${target}`;
}

/** A head's probabilities as rows of numbers: what its JSON and CSV hold. */
const matrixRows = (m: HeadMatrix): number[][] => Array.from({ length: m.queries }, (_, q) => Array.from(m.probs.subarray(q * m.keys, (q + 1) * m.keys)));

/** What an exported chart's title says first: the model and the text it read. */
function exportTitle(s: CaptureSummary, what: string): string {
  const text = s.probe ? 'the induction probe' : `“${textPreview(analysedText(s) ?? '', 60)}”`;
  return `${s.modelLabel?.name ?? modelName(s.modelPath)} · ${text} · ${what}`;
}

function show(view: (typeof VIEWS)[number]): void {
  const s = summary!;
  state = { ...state, view };
  host.setState(state);
  markTab(view);
  const root = document.getElementById('view')!;
  root.replaceChildren();
  const done = (p: Promise<unknown>): void => void p.then(() => root.setAttribute('data-ready', view));
  root.removeAttribute('data-ready');
  const heads = s.analysis?.heads ?? [];
  const headRows = (): (string | number | null)[][] => [['layer', 'head', ...HEAD_STAT_KEYS, 'labels'], ...heads.map((h) => [h.layer, h.head, ...HEAD_STAT_KEYS.map((k) => h[k]), h.labels.join(' ')])];
  if (view === 'head') {
    const axes = (): Axes => shownLabels ?? layerAxes(s);
    root.appendChild(
      exportButtons(
        host,
        // read at the export: the head and the drawing shown then
        () => `head-${s.layers[state.layer].index}-${state.head}${state.lines ? '-lines' : ''}`,
        () => document.getElementById('heatmap'),
        () => ({ queryTokens: axes().queries, keyTokens: axes().keys, layer: s.layers[state.layer].index, head: state.head, ...(isTiled(layerAxes(s)) ? { tile: shownTile } : { attention: shownMatrix && matrixRows(shownMatrix) }) }),
        () => [['query', ...axes().keys], ...(shownMatrix ? matrixRows(shownMatrix).map((row, q) => [axes().queries[q], ...row]) : [])],
        () => exportTitle(s, `layer ${s.layers[state.layer].index} (${s.layers[state.layer].name}) · head ${state.head}${state.words ? ' · words' : ''}`),
      ),
    );
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.append(
      dropdown('Layer', s.layers.length, state.layer, (i) => [`${i}: ${s.layers[i].name}`, partName(s, s.layers[i].index)].filter(Boolean).join(' · '), (layer) => {
        state = { ...state, layer, head: Math.min(state.head, s.layers[layer].heads - 1) };
        requestHead();
      }),
      dropdown('Head', s.layers[state.layer].heads, state.head, (i) => String(i), (head) => {
        state = { ...state, head };
        requestHead();
      }),
    );
    const threshold = document.createElement('label');
    threshold.className = 'picker';
    threshold.textContent = 'Hide weights below';
    const slider = document.createElement('input');
    slider.type = 'range';
    slider.min = '0';
    slider.max = '0.5';
    slider.step = '0.01';
    slider.value = String(state.threshold ?? 0);
    slider.id = 'threshold';
    const shown = document.createElement('span');
    shown.textContent = Number(slider.value).toFixed(2);
    slider.addEventListener('input', () => {
      state = { ...state, threshold: Number(slider.value) };
      shown.textContent = Number(slider.value).toFixed(2);
      host.setState(state);
      drawShownHead();
    });
    threshold.append(slider, shown);
    controls.appendChild(threshold);
    const shape = layerAxes(s);
    if (!isTiled(shape)) {
      // The pairs a sparse pattern would compute, over the dense attention (of self-attention only).
      controls.append(
        dropdown('Overlay', OVERLAYS.length, Math.max(0, OVERLAYS.findIndex((o) => o.name === state.overlay)), (i) => OVERLAYS[i].label, (i) => {
          state = { ...state, overlay: OVERLAYS[i].name };
          host.setState(state);
          drawShownHead();
        }),
      );
      const param = document.createElement('input');
      param.type = 'number';
      param.min = '1';
      param.id = 'overlay-parameter';
      param.value = String(state.overlayParameter ?? 2);
      param.title = 'window w, stride l, block l, or span z';
      param.addEventListener('change', () => {
        state = { ...state, overlayParameter: Math.max(1, Math.round(Number(param.value) || 1)) };
        host.setState(state);
        drawShownHead();
      });
      controls.appendChild(param);
      controls.appendChild(
        checkbox('word-level', 'Words', !!state.words, (on) => {
          state = { ...state, words: on };
          requestHead();
        }),
      );
    }
    if (Math.max(shape.queries.length, shape.keys.length) <= LINE_VIEW_MAX_TOKENS) {
      controls.appendChild(
        checkbox('line-view', 'Lines', !!state.lines, (on) => {
          state = { ...state, lines: on };
          host.setState(state);
          drawShownHead();
        }),
      );
    }
    // long rows spread their weight near 1/n: a square root or log scale shows what 0-1 hides
    controls.append(
      ...colorControls(colorChoice(state), true, (c) => {
        state = { ...state, colorRange: c.range, colorCurve: c.curve };
        host.setState(state);
        drawShownHead();
      }),
    );
    const plot = plotDiv('heatmap');
    root.append(controls, plot);
    requestHead();
    return;
  }
  if (!s.analysis) {
    root.appendChild(note('No head analysis in this result.'));
    return;
  }
  if (view === 'overview') {
    const statistics = overviewStatistics(s);
    const stat = statistics.find((x) => x.key === state.statistic)?.key ?? 'entropyNats';
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.append(
      dropdown('Colour by', statistics.length, statistics.findIndex((x) => x.key === stat), (i) => statistics[i].label, (i) => {
        state = { ...state, statistic: statistics[i].key };
        show('overview');
      }),
      ...colorControls(colorChoice(state), false, (c) => {
        state = { ...state, colorRange: c.range };
        show('overview');
      }),
    );
    const row = document.createElement('div');
    row.className = 'row';
    const gridPlot = plotDiv('overview-grid');
    row.appendChild(gridPlot);
    const embedding = s.analysis.headDistance ? plotDiv('embedding') : undefined;
    if (embedding) row.appendChild(embedding);
    else if (s.analysis.headDistanceSkipped) row.appendChild(headMapOffer(s.analysis.headDistanceSkipped.seconds, !!s.source?.corpus));
    const statLabel = statistics.find((x) => x.key === stat)?.label ?? stat;
    root.append(exportButtons(host, 'overview', () => gridPlot, () => s.analysis, headRows, exportTitle(s, `every head coloured by ${statLabel}`)), controls, row);
    done(
      Promise.all([
        drawOverview(gridPlot, s, stat, colorChoice(state), (layer, head) => {
          state = { ...state, layer: Math.max(0, s.layers.findIndex((l) => l.index === layer)), head };
          show('head');
        }),
        embedding ? drawEmbedding(embedding, s) : Promise.resolve(),
      ]),
    );
  } else if (view === 'spans') {
    const plot = plotDiv('spans');
    const coverages = ['span50', 'span90', 'span99'] as const;
    const coverage = coverages.find((c) => c === state.coverage) ?? 'span90';
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.append(
      dropdown('Coverage', coverages.length, coverages.indexOf(coverage), (i) => `${coverages[i].slice(4)}%`, (i) => {
        state = { ...state, coverage: coverages[i] };
        show('spans');
      }),
    );
    const left = crossHeadsNote(s);
    root.append(exportButtons(host, 'spans', () => plot, () => heads.map((h) => ({ layer: h.layer, head: h.head, span50: h.span50, span90: h.span90, span99: h.span99, span90Max: h.span90Max })), headRows, exportTitle(s, `effective spans at ${coverage.slice(4)}% coverage`)), controls, plot, ...(left ? [note(left)] : []));
    done(drawSpans(plot, s, coverage));
  } else if (view === 'relative') {
    const plot = plotDiv('relative');
    const rel = s.analysis.relative;
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.append(
      ...colorControls(colorChoice(state), true, (c) => {
        state = { ...state, colorRange: c.range, colorCurve: c.curve };
        show('relative');
      }),
    );
    root.append(
      exportButtons(host, 'relative', () => plot, () => rel, () => [['layer.head', ...rel.offsets], ...rel.profile.flatMap((row, k) => (heads[k].span90 === null ? [] : [[`${heads[k].layer}.${heads[k].head}`, ...row]]))], exportTitle(s, 'attention by relative offset')),
      controls,
      plot,
      ...(crossHeadsNote(s) ? [note(crossHeadsNote(s))] : []),
    );
    done(drawRelative(plot, s, colorChoice(state)));
  } else if (view === 'rollout') {
    done(
      showRollout(root, host, s, state.rolloutOutputs ?? [], (rolloutOutputs) => {
        state = { ...state, rolloutOutputs };
        host.setState(state);
      }),
    );
  } else if (view === 'methods') {
    if (!s.lab) {
      root.appendChild(note('No efficient-attention lab results: run the analysis with --lab (Compare Efficient Attention) to compare methods.'));
      root.setAttribute('data-ready', view);
      return;
    }
    const bars = plotDiv('methods-bars');
    const curves = plotDiv('methods-curves');
    const perHead = plotDiv('methods-heads');
    const lab = s.lab;
    root.append(
      exportButtons(host, 'methods', () => bars, () => lab, () => [['layer', 'head', 'method', 'recall', 'scoresComputed'], ...lab.heads.flatMap((h) => h.methods.map((m) => [h.layer, h.head, m.method, m.recall, m.scoresComputed]))], exportTitle(s, 'efficient-attention methods: mean recall at equal budget')),
      bars,
      curves,
      perHead,
      ...lab.notes.map((text) => note(text)),
    );
    done(drawMethods(bars, curves, perHead, s));
  } else if (view === 'buckets') {
    const b = s.lab?.buckets;
    if (!b) {
      root.appendChild(note('No buckets: run the lab for one head (--lab --head LAYER:HEAD, or Compare Efficient Attention) to see its LSH buckets and routing clusters.'));
      root.setAttribute('data-ready', view);
      return;
    }
    const lsh = plotDiv('lsh-buckets');
    const clusters = plotDiv('routing-clusters');
    root.append(
      exportButtons(host, `buckets-${b.layer}-${b.head}`, () => lsh, () => b, () => [['token', ...b.lsh.map((_, r) => `round ${r}`), 'routing cluster'], ...s.tokens.map((t, i) => [t, ...b.lsh.map((round) => round[i]), b.routing[i]])], exportTitle(s, `layer ${b.layer} · head ${b.head} · LSH buckets`)),
      lsh,
      clusters,
    );
    done(drawBuckets(lsh, clusters, s));
  }
}

/** The head as it is asked to be shown: tiles, lines or the heatmap, with the threshold. */
function drawShownHead(): void {
  const plot = document.getElementById('heatmap');
  if (!plot || !summary) return;
  const ready = (): void => document.getElementById('view')?.setAttribute('data-ready', 'head');
  const threshold = state.threshold ?? 0;
  const axes = layerAxes(summary);
  if (isTiled(axes)) {
    if (shownTile) void drawTile(plot, axes, shownTile, threshold, colorChoice(state)).then(ready);
  } else if (shownMatrix && state.lines && Math.max(axes.queries.length, axes.keys.length) <= LINE_VIEW_MAX_TOKENS) {
    Plotly.purge(plot);
    drawLines(plot, shownLabels ? { ...axes, ...shownLabels } : axes, shownMatrix, threshold);
    ready();
  } else if (shownMatrix) {
    plot.querySelector('svg.lines')?.remove();
    // a sparse pattern is a pattern of self-attention: offsets mean nothing between two texts
    const overlay = summary.layers[state.layer].part === 'cross' ? undefined : OVERLAYS.find((o) => o.name === state.overlay)?.pattern(state.overlayParameter ?? 2);
    void drawHead(plot, shownLabels ? { ...axes, ...shownLabels } : axes, shownMatrix, threshold, colorChoice(state), shownLabels ? undefined : overlay).then(ready);
  }
}

/** The panel drawn again in the theme's colours: the head from what it holds, any other view anew. */
export function repaintAttentionView(): void {
  if (!summary || !document.getElementById('view')) return;
  if (state.view === 'head') drawShownHead();
  else show((state.view as (typeof VIEWS)[number]) ?? 'overview');
}

export function startAttentionView(api: HostApi, root: HTMLElement): void {
  host = api;
  requests = panelRequests(api, answers, failed);
  app = root;
  state = host.getState() ?? state;
}

/** In place of the head map an analysis left out for its cost: what it would take, and a button to compute it. */
function headMapOffer(seconds: number, corpus: boolean): HTMLElement {
  const box = document.createElement('div');
  box.id = 'head-map-offer';
  box.className = 'plot offer';
  const why = `The map of heads by Jensen-Shannon distance compares every pair of heads row by row: about ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s on the engine's threads.`;
  box.appendChild(note(corpus ? `${why} It was left out of this corpus run; analyze one text to see it.` : why));
  if (!corpus) {
    const button = document.createElement('button');
    button.textContent = 'Map the heads';
    button.addEventListener('click', () => {
      button.disabled = true;
      button.textContent = 'Mapping the heads…';
      requests.ask({ method: 'headMap', params: {} });
    });
    box.appendChild(button);
  }
  return box;
}

/** What the view does with the host's answers: a head or a tile drawn in the heatmap, the summary with its head map drawn anew. */
const answers: PanelAnswers = {
  head: ({ matrix, labels }) => {
    shownMatrix = matrix;
    shownLabels = labels;
    drawShownHead();
  },
  tile: (tile) => {
    const plot = document.getElementById('heatmap');
    shownTile = tile;
    if (!summary || !plot) return;
    const first = !plot.classList.contains('tiled');
    void drawTile(plot, layerAxes(summary), tile, state.threshold ?? 0, colorChoice(state)).then(() => {
      if (first) {
        plot.classList.add('tiled');
        followZoom(plot);
      }
      document.getElementById('view')?.setAttribute('data-ready', 'head');
    });
  },
  headMap: render,
};

/** Says why the host could not answer; a head map that failed or was cancelled can be asked for again. */
function failed(method: PanelMethod, message: string): void {
  const offer = document.querySelector<HTMLButtonElement>('#head-map-offer button');
  if (offer && method === 'headMap') {
    offer.disabled = false;
    offer.textContent = 'Map the heads';
  }
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = message;
  app.appendChild(p);
}

export function attentionMessage(m: HostMessage): void {
  if (m.type === 'summary') render(m.summary);
  else if (m.type === 'reply') requests.settle(m);
  else if (m.type === 'notice') {
    // the source is kept, so that the panel can be restored again once it may run
    state = { ...state, source: m.source ?? state.source };
    host.setState(state);
    app.replaceChildren(note(m.message));
  }
}
