// The Head tab: one head's attention as a heatmap (from tiles above a screen's worth of tokens),
// or as bertviz's lines, with a threshold, a sparse pattern shaded over it, and words for pieces.
import Plotly from 'plotly.js-dist';
import { layerTexts } from '../../src/analysis/attentionCapture';
import { fixedSummaryColumns } from '../../src/analysis/patternCounts';
import { fixedPattern, localPattern, spanMask, stridedPattern } from '../../src/analysis/sparsePatterns';
import type { HeadMatrix, HeadTile } from '../../src/protocol';
import { colorChoice, colorControls } from '../colorControls';
import { checkbox, dropdown } from '../controls';
import { note, plotDiv } from '../elements';
import { exportButtons } from '../exports';
import { partName } from '../headDescriptions';
import { Axes, drawHead, drawTile, layerAxes } from '../headView';
import { zoomedWindow } from '../zoomedWindow';
import { LINE_VIEW_MAX_TOKENS, drawLines, lineColor } from '../lineView';
import type { PanelContext, Tab } from './tab';

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

/** Heads longer than a screen are drawn from tiles. */
const isTiled = (a: Axes): boolean => Math.max(a.queries.length, a.keys.length) > TILED_ABOVE;

/** A head's probabilities as rows of numbers: what its JSON and CSV hold. */
const matrixRows = (m: HeadMatrix): number[][] => Array.from({ length: m.queries }, (_, q) => Array.from(m.probs.subarray(q * m.keys, (q + 1) * m.keys)));

export function headTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  let shownMatrix: HeadMatrix | undefined;
  let shownTile: HeadTile | undefined;
  /** word labels when the shown matrix is between words */
  let shownLabels: { queries: string[]; keys: string[] } | undefined;
  let plot: HTMLElement | undefined;
  /** the line view's other heads of the layer (of the shown layer, pieces or words), asked one after another once the shown head came */
  const overlaid = new Map<number, HeadMatrix>();
  let waiting: number[] = [];
  const axes = (): Axes => layerAxes(s, ctx.state.layer);
  const linesShown = (): boolean => !!ctx.state.lines && Math.max(axes().queries.length, axes().keys.length) <= LINE_VIEW_MAX_TOKENS;
  const overlayHeads = (): number[] => (linesShown() ? (ctx.state.lineHeads ?? []).filter((h) => h !== ctx.state.head && h < s.layers[ctx.state.layer].heads) : []);
  const askHead = (head: number): void => ctx.ask({ method: 'head', params: { layer: ctx.state.layer, head, words: !!ctx.state.words } });

  const requestTile = (q0: number, q1: number, k0: number, k1: number): void =>
    ctx.ask({ method: 'tile', params: { layer: ctx.state.layer, head: ctx.state.head, q0, q1, k0, k1, maxCells: TILE_CELLS } });

  /** The overlaid heads not yet held, asked for in turn; the drawing once all are held. */
  function requestOverlays(): void {
    waiting = overlayHeads().filter((h) => !overlaid.has(h));
    if (waiting.length) askHead(waiting[0]);
    else drawShown();
  }

  function requestHead(): void {
    overlaid.clear();
    waiting = [];
    const a = axes();
    if (isTiled(a)) requestTile(0, a.queries.length, 0, a.keys.length);
    else askHead(ctx.state.head);
  }

  /** Zooming asks for the tile of the window shown. */
  function followZoom(el: HTMLElement): void {
    (el as unknown as { on(e: string, cb: (ev: Record<string, unknown>) => void): void }).on('plotly_relayout', (ev) => {
      const a = axes();
      const window = zoomedWindow(ev, a.queries.length, a.keys.length);
      if (window === 'all') requestTile(0, a.queries.length, 0, a.keys.length);
      else if (window) requestTile(window.q0, window.q1, window.k0, window.k1);
    });
  }

  /** The head as it is asked to be shown: tiles, lines or the heatmap, with the threshold. */
  function drawShown(): void {
    if (!plot) return;
    const { state } = ctx;
    const threshold = state.threshold ?? 0;
    const a = axes();
    const shownAxes = shownLabels ? { ...a, ...shownLabels } : a;
    if (isTiled(a)) {
      if (shownTile) void drawTile(plot, a, shownTile, threshold, colorChoice(state)).then(ctx.ready);
    } else if (shownMatrix && linesShown()) {
      Plotly.purge(plot);
      drawLines(plot, shownAxes, [shownMatrix, ...overlayHeads().flatMap((h) => overlaid.get(h) ?? [])], threshold);
      if (!waiting.length) ctx.ready();
    } else if (shownMatrix) {
      plot.querySelector('svg.lines')?.remove();
      // a sparse pattern is a pattern of self-attention: offsets mean nothing between two texts
      const overlay = s.layers[state.layer].part === 'cross' ? undefined : OVERLAYS.find((o) => o.name === state.overlay)?.pattern(state.overlayParameter ?? 2);
      const el = plot;
      void drawHead(el, shownAxes, shownMatrix, threshold, colorChoice(state), shownLabels ? undefined : overlay).then(() => {
        openTokenOnClick(el);
        ctx.ready();
      });
    }
  }

  /**
   * A click on a cell opens the token view: its query's row in every head, or with Shift its
   * key's column (positions, so not between words).
   */
  function openTokenOnClick(el: HTMLElement): void {
    if (el.dataset.tokenClicks) return;
    el.dataset.tokenClicks = 'on';
    (el as unknown as { on(e: string, cb: (ev: { points: { x: number; y: number }[]; event: MouseEvent }) => void): void }).on('plotly_click', (ev) => {
      const point = ev.points[0];
      if (!point || shownLabels) return;
      const texts = layerTexts(s.layers[ctx.state.layer].part);
      const key = ev.event.shiftKey;
      ctx.update({ token: Math.round(key ? point.x : point.y), tokenSide: key ? 'key' : 'query', tokenText: key ? texts.keys : texts.queries });
      ctx.show('token');
    });
  }

  /** A change of the state that the drawing shows: kept, and the head drawn again from what it holds. */
  const redraw = (patch: Parameters<PanelContext['update']>[0]): void => {
    ctx.update(patch);
    drawShown();
  };

  /** The line view's other heads of the layer, each a checkbox in its colour. */
  const overlayPicker = document.createElement('span');
  overlayPicker.className = 'overlay-heads';
  function fillOverlayPicker(): void {
    const chosen = new Set(ctx.state.lineHeads ?? []);
    overlayPicker.replaceChildren('Overlay heads');
    overlayPicker.hidden = !ctx.state.lines;
    for (let h = 0; h < s.layers[ctx.state.layer].heads; h++) {
      if (h === ctx.state.head) continue;
      const box = checkbox(`overlay-head-${h}`, String(h), chosen.has(h), (on) => {
        const heads = new Set(ctx.state.lineHeads ?? []);
        if (on) heads.add(h);
        else heads.delete(h);
        ctx.update({ lineHeads: [...heads].sort((a, b) => a - b) });
        requestOverlays();
      });
      // a swatch of the head's colour beside its number: coloured text would fall below contrast
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = lineColor(h, true);
      box.prepend(swatch);
      overlayPicker.appendChild(box);
    }
  }

  function controls(): HTMLElement {
    const { state } = ctx;
    const box = document.createElement('div');
    box.className = 'controls';
    box.append(
      dropdown('Layer', s.layers.length, state.layer, (i) => [`${i}: ${s.layers[i].name}`, partName(s, s.layers[i].index)].filter(Boolean).join(' · '), (layer) => {
        // another layer's heads are other heads: none is overlaid until chosen
        ctx.update({ layer, head: Math.min(ctx.state.head, s.layers[layer].heads - 1), lineHeads: [] });
        fillOverlayPicker();
        requestHead();
      }),
      dropdown('Head', s.layers[state.layer].heads, state.head, (i) => String(i), (head) => {
        ctx.update({ head });
        fillOverlayPicker();
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
      shown.textContent = Number(slider.value).toFixed(2);
      redraw({ threshold: Number(slider.value) });
    });
    threshold.append(slider, shown);
    box.appendChild(threshold);
    const shape = axes();
    if (!isTiled(shape)) {
      // The pairs a sparse pattern would compute, over the dense attention (of self-attention only).
      box.append(
        dropdown('Overlay', OVERLAYS.length, Math.max(0, OVERLAYS.findIndex((o) => o.name === state.overlay)), (i) => OVERLAYS[i].label, (i) => redraw({ overlay: OVERLAYS[i].name })),
      );
      const param = document.createElement('input');
      param.type = 'number';
      param.min = '1';
      param.id = 'overlay-parameter';
      param.value = String(state.overlayParameter ?? 2);
      param.title = 'window w, stride l, block l, or span z';
      param.addEventListener('change', () => redraw({ overlayParameter: Math.max(1, Math.round(Number(param.value) || 1)) }));
      box.appendChild(param);
      box.appendChild(
        checkbox('word-level', 'Words', !!state.words, (on) => {
          ctx.update({ words: on });
          requestHead();
        }),
      );
    }
    if (Math.max(shape.queries.length, shape.keys.length) <= LINE_VIEW_MAX_TOKENS) {
      box.appendChild(
        checkbox('line-view', 'Lines', !!state.lines, (on) => {
          ctx.update({ lines: on });
          overlayPicker.hidden = !on;
          requestOverlays();
        }),
      );
      box.appendChild(overlayPicker);
    }
    // long rows spread their weight near 1/n: a square root or log scale shows what 0-1 hides
    box.append(...colorControls(colorChoice(state), true, (c) => redraw({ colorRange: c.range, colorCurve: c.curve })));
    return box;
  }

  return {
    draw(root) {
      const layerName = (): string => `layer ${s.layers[ctx.state.layer].index} (${s.layers[ctx.state.layer].name}) · head ${ctx.state.head}${ctx.state.words ? ' · words' : ''}`;
      const shownAxes = (): Axes => shownLabels ?? axes();
      root.appendChild(
        exportButtons(
          ctx.host,
          // read at the export: the head and the drawing shown then
          () => `head-${s.layers[ctx.state.layer].index}-${ctx.state.head}${ctx.state.lines ? '-lines' : ''}`,
          () => document.getElementById('heatmap'),
          () => ({ queryTokens: shownAxes().queries, keyTokens: shownAxes().keys, layer: s.layers[ctx.state.layer].index, head: ctx.state.head, ...(isTiled(axes()) ? { tile: shownTile } : { attention: shownMatrix && matrixRows(shownMatrix) }) }),
          () => [['query', ...shownAxes().keys], ...(shownMatrix ? matrixRows(shownMatrix).map((row, q) => [shownAxes().queries[q], ...row]) : [])],
          () => ctx.exportTitle(layerName()),
        ),
      );
      plot = plotDiv('heatmap');
      fillOverlayPicker();
      root.append(controls(), plot, note('Click a cell: its query’s attention in every head (Shift-click: its key’s, from every head).'));
      requestHead();
    },
    repaint: drawShown,
    answers: {
      head: ({ matrix, labels }) => {
        if (waiting.length) {
          overlaid.set(matrix.head, matrix);
          waiting.shift();
          if (waiting.length) askHead(waiting[0]);
          else drawShown();
          return;
        }
        shownMatrix = matrix;
        shownLabels = labels;
        requestOverlays();
      },
      tile: (tile) => {
        shownTile = tile;
        if (!plot) return;
        const el = plot;
        const first = !el.classList.contains('tiled');
        void drawTile(el, axes(), tile, ctx.state.threshold ?? 0, colorChoice(ctx.state)).then(() => {
          if (first) {
            el.classList.add('tiled');
            followZoom(el);
            openTokenOnClick(el);
          }
          ctx.ready();
        });
      },
    },
  };
}
