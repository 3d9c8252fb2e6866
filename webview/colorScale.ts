// How a heatmap's values become colours: over the quantity's own range (weights 0-1) or the
// data's, linearly, on a square root (gamma 0.5) or on a log scale for long rows whose weights are
// near 1/n; a difference's over a range symmetric about 0, on the diverging map. The colour bar
// says which, and its ticks name values, each distinct.
import { categoricalScale, divergingScale, sequentialScale } from './colorMaps';

export type ColorRange = 'fixed' | 'data';
export type ColorCurve = 'linear' | 'sqrt' | 'log';

export const COLOR_RANGES: { key: ColorRange; label: string }[] = [
  { key: 'fixed', label: 'fixed' },
  { key: 'data', label: "the data's" },
];
export const COLOR_CURVES: { key: ColorCurve; label: string }[] = [
  { key: 'linear', label: 'linear' },
  { key: 'sqrt', label: 'square root (gamma 0.5)' },
  { key: 'log', label: 'log' },
];

/** What a heatmap trace needs: its values mapped to z, the colour range and the colour bar. */
export interface ColorScale {
  z(v: number | null): number | null;
  trace: { zmin: number; zmax: number; colorscale: [number, string][]; colorbar: object };
}

// A log scale shows at most four decades below its top: the weights a row can hide in.
const LOG_DECADES = 4;
// Below this panel width a colour bar lies above its plot, leaving the width to the cells.
const NARROW_PX = 600;

/** A colour bar titled `title`, its ticks at `tickvals` named `ticktext`: upright beside the plot, or lying above it. */
export function colorbar(title: string, tickvals: number[], ticktext: string[], lying = false): object {
  const placement = lying ? { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom', len: 1, thickness: 10, title: { text: title.replace('<br>', ', '), side: 'top' } } : { thickness: 14, title: { text: title, side: 'right' } };
  return { tickvals, ticktext, ...placement };
}

/** The values rounded to as few significant digits as keep them apart. */
function distinctRounded(values: number[]): number[] {
  for (let digits = 1; digits <= 6; digits++) {
    const rounded = values.map((v) => Number(v.toPrecision(digits)));
    if (new Set(rounded).size === rounded.length) return rounded;
  }
  return values;
}

/** About five round numbers from lo to hi. */
function roundTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The smallest and largest values, ignoring nulls; [0, 0] for none. */
export function valueRange(values: Iterable<number | null>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v === null || Number.isNaN(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** The range from -m to m that holds `range`: a difference's, whose 0 the diverging map's midpoint shows. */
function symmetric([lo, hi]: [number, number]): [number, number] {
  const m = Math.max(Math.abs(lo), Math.abs(hi));
  return [-m, m];
}

/**
 * The colour scale of `quantity` (named on the colour bar): over `fixed`, its own range, or over
 * the data's when asked; `smallestPositive` is the data's smallest value above 0, where a log
 * scale may start; `lying`, a colour bar above the plot in a narrow panel, leaving the width
 * to the cells (the overview's grid keeps it upright: plotly then sets its x title on the labels);
 * `diverging`, a difference's: both ranges made symmetric about 0, on the diverging map.
 */
export function colorScale(quantity: string, fixed: [number, number], data: [number, number], range: ColorRange, curve: ColorCurve, opts: { smallestPositive?: number; lying?: boolean; diverging?: boolean } = {}): ColorScale {
  if (opts.diverging) [fixed, data] = [symmetric(fixed), symmetric(data)];
  const smallestPositive = opts.smallestPositive ?? data[0];
  let [lo, hi] = range === 'data' && data[1] > data[0] ? data : fixed;
  if (curve === 'log') {
    hi = Math.max(hi, Number.MIN_VALUE);
    lo = Math.max(lo, range === 'data' && smallestPositive > 0 ? smallestPositive : 0, hi * 10 ** -LOG_DECADES);
  }
  const forward = curve === 'sqrt' ? (v: number) => Math.sqrt(Math.max(0, v)) : curve === 'log' ? (v: number) => Math.log10(Math.max(lo, v)) : (v: number) => v;
  // ticks chosen where the curve spaces them evenly, then rounded to values that name themselves
  const values =
    curve === 'log'
      ? logTicks(lo, hi)
      : curve === 'sqrt'
        ? distinctRounded(roundTicks(forward(lo), forward(hi)).map((s) => s * s))
        : roundTicks(lo, hi);
  const shown = values.filter((v) => v >= lo - 1e-12 && v <= hi + 1e-12);
  const scale = curve === 'linear' ? '' : curve === 'sqrt' ? ', √ scale' : ', log scale';
  const span = `${Number(lo.toPrecision(3))} to ${Number(hi.toPrecision(3))}`;
  const extent = range === 'data' && data[1] > data[0] ? `data's range, ${span}` : span;
  return {
    z: (v) => (v === null ? null : forward(v)),
    trace: {
      zmin: forward(lo),
      zmax: forward(hi),
      colorscale: opts.diverging ? divergingScale() : sequentialScale(),
      colorbar: colorbar(`${quantity}${scale}<br>${extent}`, shown.map(forward), shown.map((v) => String(Number(v.toPrecision(12)))), opts.lying && document.body.clientWidth < NARROW_PX),
    },
  };
}

/** Decades from lo to hi, with their 2 and 5 where fewer than three decades fit. */
function logTicks(lo: number, hi: number): number[] {
  const decades: number[] = [];
  for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) decades.push(10 ** e);
  const all = decades.length >= 3 ? decades : decades.flatMap((d) => [d, 2 * d, 5 * d]).concat(decades.length ? [] : [lo, hi]);
  return [...new Set(all.map((v) => Number(v.toPrecision(6))))].sort((a, b) => a - b);
}

// the pixels an id's label takes along a colour bar
const ID_LABEL_PX = 24;

/**
 * The colour scale of ids 0..count-1 (buckets, clusters): a flat colour each, and a tick each id
 * (every k-th where they do not fit in `pixels`) on a bar above the plot, whose strips are short.
 */
export function idScale(quantity: string, count: number, pixels: number): ColorScale['trace'] {
  const step = Math.max(1, Math.ceil((count * ID_LABEL_PX) / Math.max(pixels, ID_LABEL_PX)));
  const ids = Array.from({ length: Math.ceil(count / step) }, (_, i) => i * step);
  return { zmin: -0.5, zmax: count - 0.5, colorscale: categoricalScale(count), colorbar: colorbar(quantity, ids, ids.map(String), true) };
}
