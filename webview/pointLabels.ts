// Labels of a scatter's points that do not overlap: the points farthest from the middle (the heads
// that stand apart) are labelled first, each label only where it covers no label placed before;
// every point keeps its hover. Placed again after a zoom, where more of them fit.
import Plotly from 'plotly.js-dist';

// a label's box above its marker: 11 px text, about 6.5 px a character
const CHAR_PX = 6.5;
const LABEL_HEIGHT_PX = 14;

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const overlaps = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** Which of the labels at these pixel positions (markers, the label centred above each) are shown. */
function unclutteredLabels(points: { x: number; y: number; label: string }[]): boolean[] {
  const cx = points.reduce((a, p) => a + p.x, 0) / Math.max(1, points.length);
  const cy = points.reduce((a, p) => a + p.y, 0) / Math.max(1, points.length);
  const order = points.map((_, i) => i).sort((a, b) => Math.hypot(points[b].x - cx, points[b].y - cy) - Math.hypot(points[a].x - cx, points[a].y - cy));
  const placed: Box[] = [];
  const shown = points.map(() => false);
  for (const i of order) {
    const p = points[i];
    const half = (p.label.length * CHAR_PX) / 2 + 2;
    const box = { x0: p.x - half, x1: p.x + half, y0: p.y - 6 - LABEL_HEIGHT_PX, y1: p.y - 6 };
    if (placed.some((b) => overlaps(b, box))) continue;
    placed.push(box);
    shown[i] = true;
  }
  return shown;
}

interface Axis {
  _offset: number;
  l2p(v: number): number;
}

/** Sets the text of a drawn scatter's visible traces to the labels that fit, from each trace's `labels`. */
async function placeLabels(plot: HTMLElement, labels: string[][]): Promise<void> {
  const g = plot as unknown as { data: { x: number[]; y: number[]; visible?: boolean | string }[]; layout: object; _fullLayout: { xaxis: Axis; yaxis: Axis } };
  const { xaxis, yaxis } = g._fullLayout;
  const points = g.data.flatMap((t, k) => (t.visible === 'legendonly' ? [] : t.x.map((x, i) => ({ k, i, x: xaxis._offset + xaxis.l2p(x), y: yaxis._offset + yaxis.l2p(t.y[i]), label: labels[k][i] }))));
  const shown = unclutteredLabels(points);
  const text = labels.map((l) => l.map(() => ''));
  points.forEach((p, n) => (text[p.k][p.i] = shown[n] ? p.label : ''));
  await Plotly.react(plot, g.data.map((t, k) => ({ ...t, text: text[k] })), g.layout);
}

/** Labels the drawn scatter `plot` with `labels` (one list a trace) as far as they fit, now and after each zoom or legend click. */
export async function fitPointLabels(plot: HTMLElement, labels: string[][]): Promise<void> {
  const on = (plot as unknown as { on(e: string, cb: (ev: Record<string, unknown>) => void): void }).on;
  on.call(plot, 'plotly_relayout', (ev) => void (Object.keys(ev).some((k) => /range|autosize|width|height/.test(k)) && placeLabels(plot, labels)));
  on.call(plot, 'plotly_restyle', (ev) => void ((ev as unknown as [Record<string, unknown>])[0]?.visible !== undefined && placeLabels(plot, labels)));
  await placeLabels(plot, labels);
}
