// The colour maps of every chart: a perceptual sequential map (viridis) for weights and shares, a
// diverging map (cool-warm) for differences, a categorical palette for ids (LSH buckets, routing
// clusters, methods), and the contrast arithmetic (WCAG 2) that keeps the maps' ends apart from
// the panel's background.

type Rgb = [number, number, number];

// matplotlib's viridis sampled at tenths: perceptually uniform, readable in grey, colour-blind safe
const VIRIDIS: Rgb[] = ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'].map(hexRgb);

// Moreland's cool-warm (matplotlib's coolwarm) at sixteenths: perceptual, blue to red through a grey
// that stands apart from white (1.36:1) and from dark pages; colour-blind safe, as blue-red maps are
const COOLWARM: Rgb[] = ['#3b4cc0', '#4d68d7', '#6282ea', '#779af7', '#8db0fe', '#a3c2ff', '#b8d0f9', '#ccd9ee', '#dddddd', '#ecd3c5', '#f5c4ad', '#f7b194', '#f49a7b', '#ec7f63', '#de604d', '#cb3e38', '#b40426'].map(hexRgb);

/** Plotly's category10: every colour reads on white, on Dark Modern's grey and on black (contrast above 2:1). */
export const CATEGORICAL = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** What a cell without a value shows: a grey apart from every colour of the map and from the background. */
export const NO_DATA_COLOR = 'rgba(128, 128, 128, 0.35)';

// The contrast the map's lowest colour keeps with the background: above WCAG's 1.3 or so at which
// a cell's edge is still seen, with room for themes darker or lighter than the stock ones.
const LOW_END_CONTRAST = 1.5;
// The contrast both ends of the diverging map keep with the background: WCAG's 3:1 for graphics,
// since the ends are what a difference map is read for
const DIVERGING_END_CONTRAST = 3;

function hexRgb(hex: string): Rgb {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

const rgbHex = (c: Rgb): string => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

/** A CSS colour's red, green and blue, as the browser reads it. */
function cssRgb(color: string): Rgb {
  const probe = document.createElement('canvas').getContext('2d')!;
  probe.fillStyle = color;
  const c = probe.fillStyle;
  if (c.startsWith('#')) return hexRgb(c);
  const [r, g, b] = c.match(/[\d.]+/g)!.map(Number);
  return [r, g, b];
}

/** The page's background, which the sequential map's low end keeps apart from. */
export const pageBackground = (): Rgb => cssRgb(getComputedStyle(document.body).backgroundColor);

/** WCAG 2's relative luminance. */
function luminance([r, g, b]: Rgb): number {
  const lin = (v: number): number => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG 2's contrast ratio of two colours, 1 to 21. */
function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The colour at t (0-1) of a map given by evenly spaced stops. */
function mapAt(stops: Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((v, c) => v + f * (stops[i + 1][c] - v)) as Rgb;
}

const viridisAt = (t: number): Rgb => mapAt(VIRIDIS, t);

/** A map's stops from t = start to end as a plotly colour scale over 0-1: its ends at start and end, its own stops between. */
function scaleBetween(stops: Rgb[], start: number, end: number): [number, string][] {
  const inner = stops.flatMap((c, i): [number, string][] => {
    const t = i / (stops.length - 1);
    return t > start && t < end ? [[(t - start) / (end - start), rgbHex(c)]] : [];
  });
  return [[0, rgbHex(mapAt(stops, start))], ...inner, [1, rgbHex(mapAt(stops, end))]];
}

/**
 * The sequential map as a plotly colour scale, starting where its colour stands apart from
 * `background`: all of viridis on a light page; on a dark one its darkest violet, which would
 * melt into the page, is left out.
 */
export function sequentialScale(background: Rgb = pageBackground()): [number, string][] {
  let start = 0;
  while (start < 0.5 && contrastRatio(viridisAt(start), background) < LOW_END_CONTRAST) start += 0.01;
  return scaleBetween(VIRIDIS, start, 1);
}

/**
 * The diverging map as a plotly colour scale, its grey midpoint at 0.5 (a difference of 0 on a
 * symmetric range): all of cool-warm on a light page; on a dark one its darkest blue and red,
 * which would melt into the page, are left out alike at both ends, keeping the midpoint.
 */
export function divergingScale(background: Rgb = pageBackground()): [number, string][] {
  const apart = (t: number): boolean => contrastRatio(mapAt(COOLWARM, t), background) >= DIVERGING_END_CONTRAST && contrastRatio(mapAt(COOLWARM, 1 - t), background) >= DIVERGING_END_CONTRAST;
  let start = 0;
  while (start < 0.4 && !apart(start)) start += 0.01;
  return scaleBetween(COOLWARM, start, 1 - start);
}

/** A stepped scale for the ids 0..count-1 (drawn with zmin -0.5, zmax count - 0.5): one flat colour each. */
export function categoricalScale(count: number): [number, string][] {
  return Array.from({ length: count }, (_, i) => {
    const c = CATEGORICAL[i % CATEGORICAL.length];
    return [[i / count, c], [(i + 1) / count, c]] as [number, string][];
  }).flat();
}
