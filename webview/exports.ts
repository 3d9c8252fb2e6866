// Exports of a view: the chart as PNG or SVG with a title naming what it shows (plotly's own
// renderer, or the line view's SVG as drawn), and the view's data as JSON or CSV. Names and titles
// are read when the button is pressed, so that they follow what is on screen. In VS Code the host
// saves the file; in the standalone report the browser does.
import Plotly from 'plotly.js-dist';
import type { HostApi } from './hostApi';
import { themeColor } from './theme';

type Figure = { data: unknown[]; layout: Record<string, unknown> };

interface PlotlyImage {
  toImage(figure: HTMLElement | Figure, opts: { format: 'png' | 'svg'; width?: number; height?: number; scale?: number }): Promise<string>;
}

type Rows = (string | number | null)[][];
/** A value, or a function read at the moment of the export (what is on screen then). */
type Now<T> = T | (() => T);
const now = <T,>(v: Now<T>): T => (typeof v === 'function' ? (v as () => T)() : v);

const PNG_SCALE = 2;
const TITLE_PX = 40;

function save(host: HostApi, fileName: string, content: string, base64: boolean): void {
  if (host.saveFile) {
    host.saveFile(fileName, content, base64);
    return;
  }
  host.postMessage({ type: 'export', fileName, content, base64 });
}

export function toCsv(rows: Rows): string {
  const cell = (v: string | number | null): string => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** JSON with typed arrays as arrays: a Float32Array alone would serialise as {"0": ...}. */
export const toJson = (data: unknown): string => JSON.stringify(data, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v), 2);

/** A plotly chart with the title above it, rendered apart from the one on screen. */
function plotImage(root: HTMLElement, title: string, format: 'png' | 'svg'): Promise<string> {
  const plot = root as HTMLElement & Partial<Figure>;
  const layout = plot.layout ?? {};
  const margin = { ...(layout.margin as Record<string, number> | undefined) };
  const titled = title ? { ...layout, title: { text: title, font: { size: 13 }, x: 0.01, xanchor: 'left' }, margin: { ...margin, t: Math.max(margin.t ?? 0, TITLE_PX + 20) } } : layout;
  const height = (root.clientHeight || 450) + (title ? TITLE_PX : 0);
  return (Plotly as unknown as PlotlyImage).toImage({ data: plot.data ?? [], layout: titled }, { format, width: root.clientWidth || undefined, height, ...(format === 'png' ? { scale: PNG_SCALE } : {}) });
}

/** The line view's SVG as a file: its background and the title above it. */
function svgText(svg: SVGSVGElement, title: string): { text: string; width: number; height: number } {
  // as wide as the title too; the tokens in the page's font, which a file does not carry
  const measure = document.createElement('canvas').getContext('2d')!;
  measure.font = '13px sans-serif';
  const width = Math.max(Number(svg.getAttribute('width')), Math.ceil(measure.measureText(title).width) + 16);
  const height = Number(svg.getAttribute('height')) + TITLE_PX;
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.setAttribute('width', String(width));
  copy.setAttribute('height', String(height));
  copy.setAttribute('font-family', 'sans-serif');
  copy.setAttribute('font-size', '12');
  const body = document.createElementNS('http://www.w3.org/2000/svg', 'g');
  body.setAttribute('transform', `translate(0 ${TITLE_PX})`);
  body.append(...Array.from(copy.childNodes));
  const background = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  background.setAttribute('width', '100%');
  background.setAttribute('height', '100%');
  background.setAttribute('fill', themeColor('--vscode-editor-background', '#fff'));
  const heading = document.createElementNS('http://www.w3.org/2000/svg', 'text');
  heading.textContent = title;
  heading.setAttribute('class', 'title');
  heading.setAttribute('x', '8');
  heading.setAttribute('y', '24');
  heading.setAttribute('font-size', '13');
  heading.setAttribute('font-family', 'sans-serif');
  heading.setAttribute('fill', themeColor('--vscode-editor-foreground', '#333'));
  copy.append(background, heading, body);
  return { text: new XMLSerializer().serializeToString(copy), width, height };
}

/** An SVG drawn onto a canvas: the PNG's base64. */
async function svgPng(svg: { text: string; width: number; height: number }): Promise<string> {
  const image = new Image();
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg.text)}`;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = svg.width * PNG_SCALE;
  canvas.height = svg.height * PNG_SCALE;
  const g = canvas.getContext('2d')!;
  g.scale(PNG_SCALE, PNG_SCALE);
  g.drawImage(image, 0, 0);
  return canvas.toDataURL('image/png').split(',', 2)[1];
}

/** The chart as a file's content (base64 for PNG), or why there is none. */
async function chartFile(root: HTMLElement | null, title: string, format: 'png' | 'svg'): Promise<string | { missing: string }> {
  const lines = root?.querySelector<SVGSVGElement>('svg.lines');
  if (lines) {
    const svg = svgText(lines, title);
    return format === 'svg' ? svg.text : svgPng(svg);
  }
  if (!root || !(root as { data?: unknown }).data) return { missing: 'no chart is drawn yet: wait for it, then export again' };
  const [, payload] = (await plotImage(root, title, format)).split(',', 2);
  return format === 'svg' ? decodeURIComponent(payload) : payload;
}

/**
 * Buttons that export a view: its chart (a plotly plot, or the element holding the line view's
 * SVG) as PNG/SVG under `title`, its data as JSON and CSV, in files named `name` and the format;
 * a line beside them says when there is nothing to export or it failed.
 */
export function exportButtons(host: HostApi, name: Now<string>, chart: () => HTMLElement | null, data: () => unknown, csv: () => Rows, title: Now<string> = ''): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'exports';
  const status = document.createElement('span');
  status.className = 'export-status';
  const button = (label: string, run: () => void | Promise<void>): void => {
    const b = document.createElement('button');
    b.textContent = label;
    b.dataset.export = label.toLowerCase();
    b.addEventListener('click', () => {
      status.textContent = '';
      void Promise.resolve()
        .then(run)
        .catch((e: Error) => (status.textContent = `${label} export failed: ${e.message}`));
    });
    bar.appendChild(b);
  };
  for (const format of ['png', 'svg'] as const) {
    button(format.toUpperCase(), async () => {
      const file = await chartFile(chart(), now(title), format);
      if (typeof file !== 'string') status.textContent = file.missing;
      else save(host, `${now(name)}.${format}`, file, format === 'png');
    });
  }
  button('JSON', () => save(host, `${now(name)}.json`, toJson(data()), false));
  button('CSV', () => save(host, `${now(name)}.csv`, toCsv(csv()), false));
  bar.appendChild(status);
  return bar;
}
