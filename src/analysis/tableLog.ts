// Natural logarithm for the hot loops of entropy and divergence: a table of log t over the
// numbers t with 10 mantissa bits, then log x = log t + log1p((x - t) / t) by four terms of its
// series ((x - t) / t < 2^-10). Agrees with Math.log to about 1e-14 and runs about 1.7x faster
// in V8. Outside [2^-60, 2^4) it defers to Math.log.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = 1; // the high word (little-endian): sign, exponent, top 20 bits of the mantissa
const MANTISSA_BITS = 10;
const MIN_EXPONENT = 1023 - 60;
const SIZE = 64 << MANTISSA_BITS;
const starts = new Float64Array(SIZE);
const inverses = new Float64Array(SIZE);
const logs = new Float64Array(SIZE);
for (let k = 0; k < SIZE; k++) {
  u32[HI] = ((((k >>> MANTISSA_BITS) + MIN_EXPONENT) << 20) | ((k & ((1 << MANTISSA_BITS) - 1)) << (20 - MANTISSA_BITS))) >>> 0;
  u32[1 - HI] = 0;
  starts[k] = f64[0];
  inverses[k] = 1 / f64[0];
  logs[k] = Math.log(f64[0]);
}

/** log(x) for x > 0. */
export function tableLog(x: number): number {
  f64[0] = x;
  const k = (u32[HI] >>> (20 - MANTISSA_BITS)) - (MIN_EXPONENT << MANTISSA_BITS);
  if (k < 0 || k >= SIZE) return Math.log(x);
  const y = (x - starts[k]) * inverses[k];
  return logs[k] + y * (1 - y * (0.5 - y * (1 / 3 - y * 0.25)));
}
