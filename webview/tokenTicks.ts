// Token labels on a chart's axes: every k-th token, as many as fit without overprinting, and all of
// them once a zoom makes room; each token stays in the hover. Labels are upright on the y axis and
// vertical on the x axis, so that a label's box is its text and labels a line apart never touch.
import Plotly from 'plotly.js-dist';

// the pixels a label takes across its axis: an 11 px font's line and a gap
const LABEL_PX = 15;
// a token longer than this is cut in its label (whole in the hover)
const LABEL_CHARS = 12;

const cut = (t: string): string => (t.length > LABEL_CHARS ? `${t.slice(0, LABEL_CHARS - 1)}…` : t);

/** The tick values and labels of tokens first..last (positions), every k-th so that they fit in `pixels`. */
export function tokenTicks(tokens: readonly string[], first: number, last: number, pixels: number): { tickvals: number[]; ticktext: string[] } {
  const lo = Math.max(0, Math.ceil(first));
  const hi = Math.min(tokens.length - 1, Math.floor(last));
  const step = Math.max(1, Math.ceil(((hi - lo + 1) * LABEL_PX) / Math.max(pixels, LABEL_PX)));
  const tickvals: number[] = [];
  for (let i = Math.ceil(lo / step) * step; i <= hi; i += step) tickvals.push(i);
  return { tickvals, ticktext: tickvals.map((i) => cut(tokens[i])) };
}

interface PlotAxis {
  _length: number;
  range: [number, number];
}

type AxisName = 'xaxis' | 'yaxis';

/** The token axes of a drawn plot thinned to its real size and shown range: the ticks to relayout, or none when they are right. */
function fittedTicks(plot: HTMLElement, axes: Partial<Record<AxisName, readonly string[]>>): Record<string, unknown> | undefined {
  const full = (plot as unknown as { _fullLayout?: Record<AxisName, PlotAxis> })._fullLayout;
  const layout = (plot as unknown as { layout: Record<AxisName, { tickvals?: number[] }> }).layout;
  if (!full) return undefined;
  const update: Record<string, unknown> = {};
  for (const name of ['xaxis', 'yaxis'] as const) {
    const tokens = axes[name];
    if (!tokens || !full[name]) continue;
    const [a, b] = full[name].range;
    const ticks = tokenTicks(tokens, Math.min(a, b), Math.max(a, b), full[name]._length);
    if (JSON.stringify(ticks.tickvals) === JSON.stringify(layout[name]?.tickvals)) continue;
    update[`${name}.tickvals`] = ticks.tickvals;
    update[`${name}.ticktext`] = ticks.ticktext;
  }
  return Object.keys(update).length ? update : undefined;
}

/**
 * Keeps the token labels of `plot` (just drawn, with ticks from `tokenTicks` at a guessed size)
 * fitting: now, at its real size, and after every zoom or resize.
 */
export async function fitTokenTicks(plot: HTMLElement, axes: Partial<Record<AxisName, readonly string[]>>): Promise<void> {
  type Listener = (ev: Record<string, unknown>) => void;
  const owner = plot as unknown as { tokenAxes?: typeof axes; refit?: Listener; _ev?: { listeners(e: string): Listener[] }; on(e: string, cb: Listener): void };
  const fit = async (): Promise<void> => {
    const update = fittedTicks(plot, owner.tokenAxes ?? {});
    if (update) await Plotly.relayout(plot, update);
  };
  owner.tokenAxes = axes;
  owner.refit ??= (ev) => void (Object.keys(ev).some((k) => /range|autosize|width|height/.test(k)) && fit());
  // one listener a plot (Plotly.purge drops them), reading the token axes of its latest drawing
  if (!owner._ev?.listeners('plotly_relayout').includes(owner.refit)) owner.on('plotly_relayout', owner.refit);
  await fit();
}
