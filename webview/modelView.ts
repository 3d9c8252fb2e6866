// The model view (bertviz's, on one figure): every head's thumbnail at once, layers as rows and
// heads as columns, all of the same window of the sequence (the whole of it up to 256 tokens),
// on the sequential map over 0-1; a click on a thumbnail opens its head.
import Plotly from 'plotly.js-dist';
import type { CaptureSummary, HeadTile, PanelMethods } from '../src/protocol';
import { colorScale } from './colorScale';
import { dropdown } from './controls';
import { partName } from './headDescriptions';
import { PLOT_CONFIG, plotLayout } from './theme';

type Window = PanelMethods['window']['params'];

// Up to this many tokens the thumbnails show the whole sequence; past it, a window of WINDOW_TOKENS a side.
const WHOLE_MAX_TOKENS = 256;
const WINDOW_TOKENS = 64;
// cells a thumbnail side at most (the host shares one tile's worth among all heads)
const THUMBNAIL_CELLS = 64;
// the pixels a thumbnail's label takes: "H11" or "L23" in an 11 px font, with a gap
const LABEL_PX = 28;
// the colour bar lying above the grid, with its title and ticks
const COLORBAR_PX = 60;
// margins beside the grid: its labels left and below (the colour bar above pushes its own)
const MARGIN = { l: 44, r: 12, t: 10, b: 36 };

/** Positions of the longest text: an encoder-decoder's layers read the source, the target or both. */
const sequenceTokens = (s: CaptureSummary): number => Math.max(s.tokens.length, s.target?.tokens.length ?? 0);

/** The window starts a long text offers, WINDOW_TOKENS apart; none when the whole text is shown. */
export function windowStarts(s: CaptureSummary): number[] {
  const n = sequenceTokens(s);
  return n <= WHOLE_MAX_TOKENS ? [] : Array.from({ length: Math.ceil(n / WINDOW_TOKENS) }, (_, i) => i * WINDOW_TOKENS);
}

/** The window every thumbnail shows: the whole text when it fits, else WINDOW_TOKENS queries and keys from `start`. */
export function modelWindow(s: CaptureSummary, start: number): Window {
  const n = sequenceTokens(s);
  if (n <= WHOLE_MAX_TOKENS) return { q0: 0, q1: n, k0: 0, k1: n, maxCells: THUMBNAIL_CELLS };
  const q0 = Math.min(start, n - 1);
  return { q0, q1: Math.min(n, q0 + WINDOW_TOKENS), k0: q0, k1: Math.min(n, q0 + WINDOW_TOKENS), maxCells: THUMBNAIL_CELLS };
}

/** The picker that moves a long text's window along the sequence; none for a text shown whole. */
export function windowControls(s: CaptureSummary, w: Window, onMove: (start: number) => void): HTMLElement[] {
  const starts = windowStarts(s);
  if (!starts.length) return [];
  const n = sequenceTokens(s);
  const picker = dropdown('Tokens', starts.length, Math.max(0, starts.indexOf(w.q0)), (i) => `${starts[i]}–${Math.min(n, starts[i] + WINDOW_TOKENS) - 1} of ${n}`, (i) => onMove(starts[i]));
  picker.id = 'model-window';
  return [picker];
}

/** Where the thumbnails lie in the figure's cells: each rows x cols, gap cells apart. */
interface Grid {
  rows: number;
  cols: number;
  gap: number;
  layers: number;
  heads: number;
}

function gridOf(s: CaptureSummary, tiles: HeadTile[]): Grid {
  const rows = Math.max(1, ...tiles.map((t) => t.rows));
  const cols = Math.max(1, ...tiles.map((t) => t.cols));
  return { rows, cols, gap: Math.max(1, Math.round(Math.max(rows, cols) / 8)), layers: s.layers.length, heads: Math.max(...s.layers.map((l) => l.heads)) };
}

/** What a thumbnail's hover says: the layer (its part), the head and its labels. */
function thumbnailName(s: CaptureSummary, layer: number, head: number): string {
  const l = s.layers[layer];
  const labels = s.analysis?.heads.find((h) => h.layer === l.index && h.head === head)?.labels ?? [];
  const part = partName(s, l.index);
  return [`layer ${l.index} head ${head}${part ? ` · ${part}` : ''}`, labels.length ? labels.join(', ') : ''].filter(Boolean).join('<br>');
}

/** Every thumbnail's cells in one matrix, the gaps between them null (the background). */
function gridCells(s: CaptureSummary, tiles: HeadTile[], g: Grid): { z: (number | null)[][]; text: string[][] } {
  const height = g.layers * (g.rows + g.gap) - g.gap;
  const width = g.heads * (g.cols + g.gap) - g.gap;
  const z: (number | null)[][] = Array.from({ length: height }, () => new Array<number | null>(width).fill(null));
  const text: string[][] = Array.from({ length: height }, () => new Array<string>(width).fill(''));
  for (const t of tiles) {
    const name = thumbnailName(s, t.layer, t.head);
    const top = t.layer * (g.rows + g.gap);
    const left = t.head * (g.cols + g.gap);
    for (let r = 0; r < t.rows; r++) {
      for (let c = 0; c < t.cols; c++) {
        z[top + r][left + c] = t.values[r * t.cols + c];
        text[top + r][left + c] = name;
      }
    }
  }
  return { z, text };
}

/** Ticks at the thumbnails' middles, named by `name`, every k-th where `count` of them would crowd `pixels`. */
function thumbnailTicks(count: number, cells: number, gap: number, pixels: number, name: (i: number) => string): { tickvals: number[]; ticktext: string[] } {
  const step = Math.max(1, Math.ceil((count * LABEL_PX) / Math.max(pixels, LABEL_PX)));
  const shown = Array.from({ length: Math.ceil(count / step) }, (_, i) => i * step);
  return { tickvals: shown.map((i) => i * (cells + gap) + (cells - 1) / 2), ticktext: shown.map(name) };
}

/** The thumbnail under a cell of the figure (its layer's place and head), or none in a gap. */
function thumbnailAt(tiles: HeadTile[], g: Grid, x: number, y: number): HeadTile | undefined {
  const [head, col] = [Math.floor(x / (g.cols + g.gap)), x % (g.cols + g.gap)];
  const [layer, row] = [Math.floor(y / (g.rows + g.gap)), y % (g.rows + g.gap)];
  return tiles.find((t) => t.layer === layer && t.head === head && row < t.rows && col < t.cols);
}

/**
 * Draws the thumbnails into `root`, square cells, sized to its width; `onHead` hears a click on
 * one (the layer's place among the captured layers, and the head). The grid's geometry is kept
 * in data attributes, for whoever needs a thumbnail's place.
 */
export async function drawModelView(root: HTMLElement, s: CaptureSummary, tiles: HeadTile[], onHead: (layer: number, head: number) => void): Promise<void> {
  const g = gridOf(s, tiles);
  const { z, text } = gridCells(s, tiles, g);
  const plotWidth = Math.max(60, root.clientWidth - MARGIN.l - MARGIN.r);
  const plotHeight = Math.round((plotWidth * z.length) / z[0].length);
  root.style.height = `${plotHeight + MARGIN.t + MARGIN.b + COLORBAR_PX}px`;
  Object.assign(root.dataset, { thumbnails: String(tiles.length), thumbnailRows: String(g.rows), thumbnailCols: String(g.cols), thumbnailGap: String(g.gap) });
  const reduced = tiles.some((t) => t.rowStep > 1 || t.colStep > 1);
  const scale = colorScale(reduced ? 'weight (max of each block)' : 'weight', [0, 1], [0, 1], 'fixed', 'linear', { lying: true });
  await Plotly.react(
    root,
    [{ type: 'heatmap', z, text, hoverongaps: false, hovertemplate: '%{text}<br>weight %{z:.3f}<extra></extra>', ...scale.trace }],
    plotLayout({
      margin: MARGIN,
      xaxis: { ...thumbnailTicks(g.heads, g.cols, g.gap, plotWidth, (h) => `H${h}`), showgrid: false, zeroline: false, constrain: 'domain', fixedrange: true },
      yaxis: { ...thumbnailTicks(g.layers, g.rows, g.gap, plotHeight, (l) => `L${s.layers[l].index}`), showgrid: false, zeroline: false, autorange: 'reversed', scaleanchor: 'x', constrain: 'domain', fixedrange: true },
    }),
    PLOT_CONFIG,
  );
  const plot = root as unknown as { removeAllListeners?(e: string): void; on(e: string, cb: (e: { points: { x: number; y: number }[] }) => void): void };
  // one click listener, on the thumbnails now drawn
  plot.removeAllListeners?.('plotly_click');
  plot.on('plotly_click', (e) => {
    const p = e.points[0];
    const tile = p && thumbnailAt(tiles, g, p.x, p.y);
    if (tile) onHead(tile.layer, tile.head);
  });
}

/** The window's tiles as an export holds them: each head's cells as rows of numbers, under its layer's index in the model. */
export function windowExport(s: CaptureSummary, w: Window, tiles: HeadTile[]) {
  return {
    window: { queries: [w.q0, w.q1], keys: [w.k0, w.k1] },
    heads: tiles.map((t) => ({
      layer: s.layers[t.layer].index,
      head: t.head,
      q0: t.q0,
      k0: t.k0,
      rowStep: t.rowStep,
      colStep: t.colStep,
      cells: Array.from({ length: t.rows }, (_, r) => Array.from(t.values.subarray(r * t.cols, (r + 1) * t.cols))),
    })),
  };
}

/** The export's CSV: a line for each cell of each head, at its first query and key. */
export const windowCsv = (s: CaptureSummary, tiles: HeadTile[]): (string | number)[][] => [
  ['layer', 'head', 'query', 'key', 'weight'],
  ...tiles.flatMap((t) => Array.from(t.values, (v, i) => [s.layers[t.layer].index, t.head, t.q0 + Math.floor(i / t.cols) * t.rowStep, t.k0 + (i % t.cols) * t.colStep, v])),
];
