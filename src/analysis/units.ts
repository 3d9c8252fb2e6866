// Sizes and counts written with explicit units: binary (MiB) and decimal (MB) bytes, FLOPs.

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

function scaled(v: number, base: number, units: string[]): string {
  let u = 0;
  while (v >= base && u < units.length - 1) {
    v /= base;
    u++;
  }
  // Exact quarters and halves stay exact (27.75 MiB); anything else gets 3 significant figures.
  const exact = Math.abs(v * 100 - Math.round(v * 100)) < 1e-9;
  const shown = exact ? Number(v.toFixed(2)) : Number(v.toPrecision(3));
  return `${shown} ${units[u]}`;
}

/** "144 MiB" */
export const binaryBytes = (bytes: number): string => scaled(bytes, 1024, BINARY);
/** "151 MB" */
export const decimalBytes = (bytes: number): string => scaled(bytes, 1000, DECIMAL);

export function flops(v: number): string {
  return scaled(v, 1000, ['', 'k', 'M', 'G', 'T', 'P', 'E']).replace(/ $/, '') + 'FLOP';
}
