// What a zoom of a heatmap shows, from plotly's relayout event: the window a tile is asked for.

/** The window [q0, q1) x [k0, k1) a zoom of a heatmap of nq x nk shows (plotly's relayout event); 'all' when it zoomed back out; undefined when the event is no zoom. */
export function zoomedWindow(ev: Record<string, unknown>, nq: number, nk: number): { q0: number; q1: number; k0: number; k1: number } | 'all' | undefined {
  if (ev['xaxis.autorange'] || ev['yaxis.autorange']) return 'all';
  const [x0, x1, y0, y1] = ['xaxis.range[0]', 'xaxis.range[1]', 'yaxis.range[0]', 'yaxis.range[1]'].map((k) => ev[k]);
  if (typeof x0 !== 'number' || typeof x1 !== 'number' || typeof y0 !== 'number' || typeof y1 !== 'number') return undefined;
  const clamp = (v: number, n: number): number => Math.max(0, Math.min(n, v));
  const [k0, k1] = [clamp(Math.floor(Math.min(x0, x1)), nk), clamp(Math.ceil(Math.max(x0, x1)) + 1, nk)];
  const [q0, q1] = [clamp(Math.floor(Math.min(y0, y1)), nq), clamp(Math.ceil(Math.max(y0, y1)) + 1, nq)];
  return k1 > k0 && q1 > q0 ? { q0, q1, k0, k1 } : undefined;
}
