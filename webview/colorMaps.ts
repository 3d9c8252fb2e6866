// The colour maps of every chart: a perceptual sequential map (viridis) for weights and shares, a
// categorical palette for ids (LSH buckets, routing clusters, methods), and the contrast
// arithmetic (WCAG 2) that keeps the map's low end apart from the panel's background.

type Rgb = [number, number, number];

// matplotlib's viridis sampled at tenths: perceptually uniform, readable in grey, colour-blind safe
const VIRIDIS: Rgb[] = ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'].map(hexRgb);

/** Plotly's category10: every colour reads on white, on Dark Modern's grey and on black (contrast above 2:1). */
export const CATEGORICAL = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** What a cell without a value shows: a grey apart from every colour of the map and from the background. */
export const NO_DATA_COLOR = 'rgba(128, 128, 128, 0.35)';

// The contrast the map's lowest colour keeps with the background: above WCAG's 1.3 or so at which
// a cell's edge is still seen, with room for themes darker or lighter than the stock ones.
const LOW_END_CONTRAST = 1.5;

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

function viridisAt(t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((v, c) => v + f * (VIRIDIS[i + 1][c] - v)) as Rgb;
}

/**
 * The sequential map as a plotly colour scale, starting where its colour stands apart from
 * `background`: all of viridis on a light page; on a dark one its darkest violet, which would
 * melt into the page, is left out.
 */
export function sequentialScale(background: Rgb = pageBackground()): [number, string][] {
  let start = 0;
  while (start < 0.5 && contrastRatio(viridisAt(start), background) < LOW_END_CONTRAST) start += 0.01;
  const stops: [number, string][] = [[0, rgbHex(viridisAt(start))]];
  VIRIDIS.forEach((c, i) => {
    const t = i / (VIRIDIS.length - 1);
    if (t > start) stops.push([(t - start) / (1 - start), rgbHex(c)]);
  });
  return stops;
}

/** A stepped scale for the ids 0..count-1 (drawn with zmin -0.5, zmax count - 0.5): one flat colour each. */
export function categoricalScale(count: number): [number, string][] {
  return Array.from({ length: count }, (_, i) => {
    const c = CATEGORICAL[i % CATEGORICAL.length];
    return [[i / count, c], [(i + 1) / count, c]] as [number, string][];
  }).flat();
}
