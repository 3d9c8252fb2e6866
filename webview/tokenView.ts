// The token view: one token's row (what it attends to) or column (what attends to it) in every
// head of every layer, a heat row each, heads stacked within their layer; the token's own position
// outlined. Layers whose rows run over different texts (an encoder-decoder's) get a block each.
import Plotly from 'plotly.js-dist';
import { layerTexts } from '../src/analysis/attentionCapture';
import type { CaptureSummary, PanelMethods, TokenRows } from '../src/protocol';
import type { ColorChoice } from './colorControls';
import { colorScale, valueRange } from './colorScale';
import { dropdown } from './controls';
import { PLOT_CONFIG, plotLayout, themeColor } from './theme';
import { fitTokenTicks, tokenTicks } from './tokenTicks';

export type TokenChoice = PanelMethods['tokenRow']['params'];

// a head's row: tall enough to see, short enough that 144 heads fit a screen; few heads get taller rows
const ROW_PX = 5;
const MAX_ROW_PX = 16;
const ROWS_PX = 480;
// the pixels a layer's label takes down the y axis
const LAYER_LABEL_PX = 15;
// the space a block's token labels and title take below it, and the colour bar above the first
const BLOCK_GAP_PX = 80;
// the colour bar lying above the first block pushes its own margin
const MARGIN = { l: 44, r: 12, t: 10, b: 80 };
const COLORBAR_PX = 60;

const SIDES: { key: TokenChoice['side']; label: string }[] = [
  { key: 'query', label: 'attends to' },
  { key: 'key', label: 'attended by' },
];

/** The tokens of a choice's text. */
export const choiceTokens = (s: CaptureSummary, text: TokenChoice['text']): string[] => (text === 'target' && s.target ? s.target.tokens : s.tokens);

/** The pickers of the token, the direction and (an encoder-decoder's) the text; each change hands on the new choice. */
export function tokenControls(s: CaptureSummary, choice: TokenChoice, onChange: (choice: TokenChoice) => void): HTMLElement[] {
  const tokens = choiceTokens(s, choice.text);
  const token = dropdown('Token', tokens.length, choice.token, (i) => `${i}: ${tokens[i]}`, (i) => onChange({ ...choice, token: i }));
  token.id = 'token-picker';
  const side = dropdown('Shows what it', SIDES.length, SIDES.findIndex((x) => x.key === choice.side), (i) => SIDES[i].label, (i) => onChange({ ...choice, side: SIDES[i].key }));
  side.id = 'token-side';
  if (!s.target) return [token, side];
  const texts = ['source', 'target'] as const;
  const text = dropdown('Text', texts.length, texts.indexOf(choice.text), (i) => texts[i], (i) => onChange({ ...choice, text: texts[i], token: Math.min(choice.token, choiceTokens(s, texts[i]).length - 1) }));
  text.id = 'token-text';
  return [token, side, text];
}

/** Layers whose values run over the same text: their tokens, and which text that is. */
interface Block {
  tokens: string[];
  text: TokenChoice['text'];
  layers: TokenRows['layers'];
}

/** The rows' layers grouped by the text their values run over: a row over its layer's keys, a column over its queries. */
function blocksOf(s: CaptureSummary, rows: TokenRows): Block[] {
  const blocks: Block[] = [];
  for (const l of rows.layers) {
    const texts = layerTexts(s.layers[l.layer].part);
    const text = rows.side === 'query' ? texts.keys : texts.queries;
    const block = blocks.find((b) => b.text === text);
    if (block) block.layers.push(l);
    else blocks.push({ tokens: choiceTokens(s, text), text, layers: [l] });
  }
  return blocks;
}

/** A block's heat rows, a null row between layers; each cell's hover names its head and token. */
function blockCells(s: CaptureSummary, b: Block) {
  const z: (number | null)[][] = [];
  const hover: string[][] = [];
  const layerRows: { row: number; layer: number }[] = [];
  for (const l of b.layers) {
    if (z.length) {
      z.push(new Array<number | null>(l.length).fill(null));
      hover.push(new Array<string>(l.length).fill(''));
    }
    layerRows.push({ row: z.length, layer: l.layer });
    for (let h = 0; h < l.heads; h++) {
      z.push(Array.from(l.values.subarray(h * l.length, (h + 1) * l.length)));
      const name = `layer ${s.layers[l.layer].index} head ${h}`;
      hover.push(Array.from({ length: l.length }, (_, k) => `${name} · ${b.tokens[k]} (${k})`));
    }
  }
  return { z, hover, layerRows };
}

/** A layer's label at the middle of its heads' rows, every k-th layer where they would crowd. */
function layerTicks(s: CaptureSummary, layerRows: { row: number; layer: number }[], heads: number, rowPx: number) {
  const step = Math.max(1, Math.ceil(LAYER_LABEL_PX / Math.max(1, heads * rowPx)));
  const shown = layerRows.filter((_, i) => i % step === 0);
  return { tickvals: shown.map((r) => r.row + (heads - 1) / 2), ticktext: shown.map((r) => `L${s.layers[r.layer].index}`) };
}

/** What the rows show, in words: the chart's title. */
export function tokenTitle(s: CaptureSummary, rows: TokenRows): string {
  const token = choiceTokens(s, rows.text)[rows.token];
  const what = rows.side === 'query' ? 'its attention over the keys' : "every query's attention to it";
  return `“${token}” (${rows.text === 'target' ? 'target token' : 'token'} ${rows.token}) ${SIDES.find((x) => x.key === rows.side)!.label}: ${what}, in every head`;
}

/**
 * Draws the rows into `root`, a block of heat rows for each text they run over, the chosen token's
 * position outlined where a block runs over its own text; `onToken` hears a click on a token (its
 * position, and the text the block runs over).
 */
export async function drawTokenView(root: HTMLElement, s: CaptureSummary, rows: TokenRows, color: ColorChoice, onToken: (token: number, text: TokenChoice['text']) => void): Promise<void> {
  const blocks = blocksOf(s, rows).map((b) => ({ ...b, ...blockCells(s, b) }));
  const rowPx = Math.max(ROW_PX, Math.min(MAX_ROW_PX, Math.floor(ROWS_PX / blocks.reduce((a, b) => a + b.z.length, 0))));
  const blockPx = blocks.map((b) => b.z.length * rowPx);
  const height = blockPx.reduce((a, px) => a + px, 0) + BLOCK_GAP_PX * (blocks.length - 1);
  root.style.height = `${height + MARGIN.t + MARGIN.b + COLORBAR_PX}px`;
  // a row of n keys holds weights near 1/n: the data's range, a square root or a log scale shows them
  let smallestPositive = Infinity;
  for (const l of rows.layers) for (const v of l.values) if (v > 0 && v < smallestPositive) smallestPositive = v;
  const scale = colorScale('weight', [0, 1], valueRange(rows.layers.flatMap((l) => valueRange(l.values))), color.range, color.curve, { smallestPositive, lying: true });
  const width = root.clientWidth - MARGIN.l - MARGIN.r;
  const traces: object[] = [];
  const layout: Record<string, unknown> = { margin: MARGIN, shapes: [] as object[] };
  let top = 0;
  blocks.forEach((b, i) => {
    const axis = i === 0 ? '' : String(i + 1);
    const domain = [1 - (top + blockPx[i]) / height, 1 - top / height];
    top += blockPx[i] + BLOCK_GAP_PX;
    const over = rows.side === 'query' ? 'key' : 'query';
    traces.push({ type: 'heatmap', z: b.z.map((row) => row.map(scale.z)), customdata: b.z, text: b.hover, xaxis: `x${axis}`, yaxis: `y${axis}`, hoverongaps: false, hovertemplate: '%{text}: %{customdata:.4f}<extra></extra>', ygap: rowPx >= 8 ? 1 : 0, ...scale.trace, showscale: i === 0 });
    layout[`xaxis${axis}`] = { ...tokenTicks(b.tokens, 0, b.tokens.length - 1, width), tickangle: -90, anchor: `y${axis}`, title: { text: `${over} (${b.text}, ${b.tokens.length} tokens)` }, showgrid: false, zeroline: false };
    layout[`yaxis${axis}`] = { ...layerTicks(s, b.layerRows, b.layers[0].heads, rowPx), domain, anchor: `x${axis}`, autorange: 'reversed', showgrid: false, zeroline: false, fixedrange: true };
    // the token itself: its own position, where the block runs over its text
    if (b.text === rows.text) (layout.shapes as object[]).push({ type: 'rect', xref: `x${axis}`, yref: `y${axis} domain`, x0: rows.token - 0.5, x1: rows.token + 0.5, y0: 0, y1: 1, line: { color: themeColor('--vscode-editor-foreground', '#333'), width: 1.5 } });
  });
  await Plotly.react(root, traces, plotLayout(layout), PLOT_CONFIG);
  Object.assign(root.dataset, { token: String(rows.token), side: rows.side, text: rows.text, rows: String(blocks.reduce((a, b) => a + b.layers.reduce((h, l) => h + l.heads, 0), 0)) });
  // the first block's token labels follow its zoom; a second (an encoder-decoder's) keeps its own
  await fitTokenTicks(root, { xaxis: blocks[0]?.tokens ?? [] });
  const plot = root as unknown as { removeAllListeners?(e: string): void; on(e: string, cb: (e: { points: { x: number; data: { xaxis: string } }[] }) => void): void };
  plot.removeAllListeners?.('plotly_click');
  plot.on('plotly_click', (e) => {
    const p = e.points[0];
    const block = p && blocks[p.data.xaxis === 'x' ? 0 : Number(p.data.xaxis.slice(1)) - 1];
    if (block) onToken(p.x, block.text);
  });
}

/** The rows as an export holds them: plain arrays, a row of numbers a head, under each layer's index in the model. */
export function tokenRowsExport(s: CaptureSummary, rows: TokenRows) {
  return {
    token: rows.token,
    tokenText: choiceTokens(s, rows.text)[rows.token],
    side: rows.side,
    text: rows.text,
    layers: rows.layers.map((l) => ({
      layer: s.layers[l.layer].index,
      name: s.layers[l.layer].name,
      heads: Array.from({ length: l.heads }, (_, h) => Array.from(l.values.subarray(h * l.length, (h + 1) * l.length))),
    })),
  };
}

/** The export's CSV: a line a head, its layer and head first. */
export const tokenRowsCsv = (s: CaptureSummary, rows: TokenRows): (string | number)[][] => [
  ['layer', 'head', ...Array.from({ length: Math.max(0, ...rows.layers.map((l) => l.length)) }, (_, k) => k)],
  ...rows.layers.flatMap((l) => Array.from({ length: l.heads }, (_, h) => [s.layers[l.layer].index, h, ...l.values.subarray(h * l.length, (h + 1) * l.length)])),
];
