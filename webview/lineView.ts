// The line view in the manner of bertviz: queries on the left, keys on the right, a line for
// each weight with its opacity; several heads of a layer overlaid, one colour each; hovering a
// token keeps only its lines. For short texts.
import type { HeadMatrix } from '../src/protocol';
import { CATEGORICAL } from './colorMaps';
import type { Axes } from './headView';
import { themeColor } from './theme';

export const LINE_VIEW_MAX_TOKENS = 128;
const ROW_PX = 18;
const SVG = 'http://www.w3.org/2000/svg';
const LEGEND_PX = 22;

/** A head's colour in the line view: the focus colour alone, else its place in the categorical palette. */
export const lineColor = (head: number, overlaid: boolean): string => (overlaid ? CATEGORICAL[head % CATEGORICAL.length] : themeColor('--vscode-focusBorder', '#007acc'));

/** Draws the heads' lines (the first the head chosen, the others overlaid over it), below a legend when there are several. */
export function drawLines(root: HTMLElement, axes: Axes, heads: readonly HeadMatrix[], threshold: number): void {
  root.replaceChildren();
  const m = heads[0];
  const overlaid = heads.length > 1;
  const top = overlaid ? LEGEND_PX : 0;
  const width = 520;
  const height = top + Math.max(m.queries, m.keys) * ROW_PX + 10;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'lines');
  const fg = themeColor('--vscode-editor-foreground', '#333');
  const left = 160;
  const right = width - 160;
  const lines: SVGLineElement[] = [];
  const text = (content: string, x: number, y: number, anchor: string, fill: string): SVGTextElement => {
    const t = document.createElementNS(SVG, 'text');
    t.textContent = content;
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(y));
    t.setAttribute('text-anchor', anchor);
    t.setAttribute('fill', fill);
    svg.appendChild(t);
    return t;
  };
  heads.forEach((h, at) => {
    const stroke = lineColor(h.head, overlaid);
    if (overlaid) text(`head ${h.head}`, 4 + at * 64, 14, 'start', stroke).setAttribute('class', 'legend');
    for (let q = 0; q < h.queries; q++) {
      for (let k = 0; k < h.keys; k++) {
        const w = h.probs[q * h.keys + k];
        if (w < Math.max(threshold, 0.01)) continue;
        const line = document.createElementNS(SVG, 'line');
        line.setAttribute('x1', String(left + 4));
        line.setAttribute('y1', String(top + q * ROW_PX + 14));
        line.setAttribute('x2', String(right - 4));
        line.setAttribute('y2', String(top + k * ROW_PX + 14));
        line.setAttribute('stroke', stroke);
        line.setAttribute('stroke-width', '2');
        line.setAttribute('stroke-opacity', String(w));
        line.dataset.q = String(q);
        line.dataset.k = String(k);
        line.dataset.head = String(h.head);
        lines.push(line);
        svg.appendChild(line);
      }
    }
  });
  const label = (content: string, x: number, y: number, anchor: string, side: 'q' | 'k', index: number): void => {
    const t = text(content, x, y, anchor, fg);
    t.setAttribute('class', 'token');
    t.addEventListener('mouseenter', () => {
      for (const l of lines) l.style.display = l.dataset[side] === String(index) ? '' : 'none';
    });
    t.addEventListener('mouseleave', () => {
      for (const l of lines) l.style.display = '';
    });
  };
  for (let q = 0; q < m.queries; q++) label(axes.queries[q], left, top + q * ROW_PX + 18, 'end', 'q', q);
  for (let k = 0; k < m.keys; k++) label(axes.keys[k], right, top + k * ROW_PX + 18, 'start', 'k', k);
  root.appendChild(svg);
}
