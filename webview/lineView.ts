// The line view in the manner of bertviz: queries on the left, keys on the right, a line for
// each weight with its opacity; hovering a token keeps only its lines. For short texts.
import type { HeadMatrix } from '../src/protocol';
import type { Axes } from './headView';
import { themeColor } from './theme';

export const LINE_VIEW_MAX_TOKENS = 128;
const ROW_PX = 18;
const SVG = 'http://www.w3.org/2000/svg';

export function drawLines(root: HTMLElement, axes: Axes, m: HeadMatrix, threshold: number): void {
  root.replaceChildren();
  const width = 520;
  const height = Math.max(m.queries, m.keys) * ROW_PX + 10;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'lines');
  const fg = themeColor('--vscode-editor-foreground', '#333');
  const stroke = themeColor('--vscode-focusBorder', '#007acc');
  const left = 160;
  const right = width - 160;
  const lines: SVGLineElement[] = [];
  for (let q = 0; q < m.queries; q++) {
    for (let k = 0; k < m.keys; k++) {
      const w = m.probs[q * m.keys + k];
      if (w < Math.max(threshold, 0.01)) continue;
      const line = document.createElementNS(SVG, 'line');
      line.setAttribute('x1', String(left + 4));
      line.setAttribute('y1', String(q * ROW_PX + 14));
      line.setAttribute('x2', String(right - 4));
      line.setAttribute('y2', String(k * ROW_PX + 14));
      line.setAttribute('stroke', stroke);
      line.setAttribute('stroke-width', '2');
      line.setAttribute('stroke-opacity', String(w));
      line.dataset.q = String(q);
      line.dataset.k = String(k);
      lines.push(line);
      svg.appendChild(line);
    }
  }
  const label = (text: string, x: number, y: number, anchor: string, side: 'q' | 'k', index: number): void => {
    const t = document.createElementNS(SVG, 'text');
    t.textContent = text;
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(y));
    t.setAttribute('text-anchor', anchor);
    t.setAttribute('fill', fg);
    t.setAttribute('class', 'token');
    t.addEventListener('mouseenter', () => {
      for (const l of lines) l.style.display = l.dataset[side] === String(index) ? '' : 'none';
    });
    t.addEventListener('mouseleave', () => {
      for (const l of lines) l.style.display = '';
    });
    svg.appendChild(t);
  };
  for (let q = 0; q < m.queries; q++) label(axes.queries[q], left, q * ROW_PX + 18, 'end', 'q', q);
  for (let k = 0; k < m.keys; k++) label(axes.keys[k], right, k * ROW_PX + 18, 'start', 'k', k);
  root.appendChild(svg);
}
