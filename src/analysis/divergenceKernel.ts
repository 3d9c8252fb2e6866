// The inner loops of the head distances (headDistance.ts) as WebAssembly: the Jensen-Shannon
// divergence of every pair of heads over one query's rows, keys in f64x2 lanes, eight a step.
//
// log m, m = (p + r) / 2, comes from a table indexed by the bits of s = p + r: the exponent's
// low OCTAVE_BITS bits and the top CELL_BITS bits of the mantissa pick s's cell, whose centre c
// the bits give exactly, and which holds 1 / c and log(c / 2); then log m = log(c / 2) +
// log1p(y), y = (s - c) / c, |y| <= 2^-(CELL_BITS + 1), by three terms of its series: within
// 1.5e-14 of the true log (tableLog, which the JavaScript loop used, is within 1e-16; each row's
// weights sum to 1, so a query adds at most twice that to a pair's distance). s - c is exact.
// The index is masked, so that no value reads outside the table: NaN stays NaN, and the cells
// are right for every s in [2^S_EXPONENT_MIN, 2^(S_EXPONENT_MIN + 2^OCTAVE_BITS)), which holds
// every sum of two smoothed probabilities of rows of up to MAX_KEYS keys.
//
//   smooth(src, dst, keys, padded, eps)
// writes dst[j] = f32(KEEP a_j + eps) as f64 for the keys float32 a_j at src (NaN where that is
// not positive, as log gives), then 1 up to padded: p = r = 1 adds exactly 0 to every sum.
//
//   divergenceRow(rows, stride, heads, len, entropies, totals)
// for one query whose smoothed rows (len keys, a multiple of 8) lie `stride` bytes apart at
// rows: each head's entropy into entropies, then for every pair in the order (0, 1), (0, 2),
// ..., (1, 2), ...: totals[pair] += H(m) - (H(p) + H(r)) / 2.
import {
  ADD_F64, ADD_F64X2, ADD_I32, AND_V128, BITSELECT, BLOCK, DEMOTE_F64X2, END, F64, GE_U, GT_F64X2, I32, I64, LOOP, MUL_F64, MUL_F64X2, MUL_I32, OR_V128,
  PROMOTE_F32X4, SHR_U_I64, SHR_U_I64X2, SUB_F64, SUB_F64X2, SUB_I32, V128, WRAP, WasmMemory, br, brIf, call, constF64x2, extractF64, extractI64, f64,
  get, i32, i64, instantiate, loadF32x2, loadF64, loadV128, reserve, set, shuffle, splatF64, storeF64, storeV128, tee, wasmModule,
} from './wasmAssembly';

/** Clark et al.'s smoothing for the divergence: KEEP a + (1 - KEEP) / keys. */
const KEEP = 0.999;

const CELL_BITS = 10;
const OCTAVE_BITS = 5;
const S_EXPONENT_MIN = -29;
/** Rows of up to this many keys have every smoothed probability, and every sum of two, inside the table. */
const MAX_KEYS = 2 ** 20;
const CELLS = 2 ** (OCTAVE_BITS + CELL_BITS);
const TABLE_BYTES = 16 * CELLS;
// The loop's constants, after the table: V8 rebuilds a v128.const at every use inside a loop,
// while values loaded once stay in registers.
const CONSTANTS_AT = TABLE_BYTES;
const CONSTANT_BYTES = 5 * 16;
/** Keys a step of the loop: rows are padded to a multiple. */
const STEP = 8;

/** Per cell (exponent mod 2^OCTAVE_BITS, top mantissa bits): [1 / c, log(c / 2)], c the cell's centre. */
function logTable(): Float64Array {
  const table = new Float64Array(2 * CELLS);
  for (let e = S_EXPONENT_MIN; e < S_EXPONENT_MIN + 2 ** OCTAVE_BITS; e++) {
    const octave = (e + 1023) & (2 ** OCTAVE_BITS - 1);
    for (let k = 0; k < 2 ** CELL_BITS; k++) {
      const c = 2 ** e * (1 + (k + 0.5) / 2 ** CELL_BITS);
      const cell = (octave << CELL_BITS) | k;
      table[2 * cell] = 1 / c;
      table[2 * cell + 1] = Math.log(c / 2);
    }
  }
  return table;
}

const U64 = 2n ** 64n - 1n;
/** The constants as 64-bit lanes, in the order the loop loads them. */
const CONSTANTS = [
  // byte offsets of the cells of four lanes, packed two to an i64 lane
  BigInt(((CELLS - 1) << 4) >>> 0) * 0x100000001n,
  // s with the bits below its cell cleared, then the cell's half set: its centre
  ~BigInt(2 ** (52 - CELL_BITS) - 1) & U64,
  BigInt(2 ** (52 - CELL_BITS - 1)),
  // the series
  new BigUint64Array(Float64Array.of(1 / 3).buffer)[0],
  new BigUint64Array(Float64Array.of(-1 / 2).buffer)[0],
];

// --- rowSum(a, b, len) -> sum_j s_j log(s_j / 2), s_j = a_j + b_j over f64 rows of len keys
const [RA, RB, RLEN, REND, W] = [0, 1, 2, 3, 4];
const [S0, S1, C0, C1, C2, C3, Y, X, ACC0, ACC1, CELL_MASK, CELL_START, CELL_HALF, THIRD, MINUS_HALF] = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const [INVERSES, LOGS] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23],
  [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31],
];
/** s log(s / 2) of the two lanes of `s`, whose cells are `ca` and `cb`, onto `acc`. */
const twoTerms = (s: number, ca: number, cb: number, acc: number): number[] => [
  ...get(s), ...get(s), ...get(CELL_START), ...AND_V128, ...get(CELL_HALF), ...OR_V128, ...SUB_F64X2, ...get(ca), ...get(cb), ...shuffle(INVERSES), ...MUL_F64X2, ...set(Y),
  // log(c / 2) + y - y^2 / 2 + y^3 / 3
  ...get(ca), ...get(cb), ...shuffle(LOGS),
  ...get(Y), ...get(Y), ...get(Y), ...get(THIRD), ...MUL_F64X2, ...get(MINUS_HALF), ...ADD_F64X2, ...MUL_F64X2, ...MUL_F64X2, ...get(Y), ...ADD_F64X2,
  ...ADD_F64X2,
  ...get(s), ...MUL_F64X2, ...get(acc), ...ADD_F64X2, ...set(acc),
];
const cellOf = (half: number): number[] => [...get(W), ...(half ? [...i64(32), ...SHR_U_I64] : []), ...WRAP, ...loadV128(0)];
/** Four keys at byte offset `off`: the cells' offsets of both pairs in one vector (a 32x4 shuffle), read out two at a time. */
const fourKeys = (off: number): number[] => [
  ...get(RA), ...loadV128(off), ...get(RB), ...loadV128(off), ...ADD_F64X2, ...tee(S0), ...i32(52 - CELL_BITS - 4), ...SHR_U_I64X2,
  ...get(RA), ...loadV128(off + 16), ...get(RB), ...loadV128(off + 16), ...ADD_F64X2, ...tee(S1), ...i32(52 - CELL_BITS - 4), ...SHR_U_I64X2,
  ...shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]), ...get(CELL_MASK), ...AND_V128, ...tee(X),
  ...extractI64(0), ...set(W), ...cellOf(0), ...set(C0), ...cellOf(1), ...set(C1),
  ...get(X), ...extractI64(1), ...set(W), ...cellOf(0), ...set(C2), ...cellOf(1), ...set(C3),
  ...twoTerms(S0, C0, C1, ACC0), ...twoTerms(S1, C2, C3, ACC1),
];
const rowSumBody = [
  ...[CELL_MASK, CELL_START, CELL_HALF, THIRD, MINUS_HALF].flatMap((l, k) => [...i32(0), ...loadV128(CONSTANTS_AT + 16 * k), ...set(l)]),
  ...get(RA), ...get(RLEN), ...i32(8), ...MUL_I32, ...ADD_I32, ...set(REND),
  ...BLOCK, ...LOOP,
  ...get(RA), ...get(REND), ...GE_U, ...brIf(1),
  ...fourKeys(0), ...fourKeys(32),
  ...get(RA), ...i32(8 * STEP), ...ADD_I32, ...set(RA), ...get(RB), ...i32(8 * STEP), ...ADD_I32, ...set(RB),
  ...br(0), ...END, ...END,
  ...get(ACC0), ...get(ACC1), ...ADD_F64X2, ...tee(ACC0), ...extractF64(0), ...get(ACC0), ...extractF64(1), ...ADD_F64,
  ...END,
];

// --- smooth(src, dst, keys, padded, eps)
const [SRC, DST, KEYS, PADDED, EPS, SRC_END, DST_END, EPS2, SMOOTHED] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const smoothBody = [
  ...get(SRC), ...get(KEYS), ...i32(4), ...MUL_I32, ...ADD_I32, ...set(SRC_END),
  ...get(DST), ...get(PADDED), ...i32(8), ...MUL_I32, ...ADD_I32, ...set(DST_END),
  ...get(EPS), ...splatF64, ...set(EPS2),
  ...BLOCK, ...LOOP,
  ...get(SRC), ...get(SRC_END), ...GE_U, ...brIf(1),
  // two keys (the second past the row when keys is odd: overwritten below)
  ...get(DST),
  ...get(SRC), ...loadF32x2(0), ...PROMOTE_F32X4, ...constF64x2(KEEP), ...MUL_F64X2, ...get(EPS2), ...ADD_F64X2, ...DEMOTE_F64X2, ...PROMOTE_F32X4, ...tee(SMOOTHED),
  ...constF64x2(NaN), ...get(SMOOTHED), ...constF64x2(0), ...GT_F64X2, ...BITSELECT,
  ...storeV128(0),
  ...get(SRC), ...i32(8), ...ADD_I32, ...set(SRC), ...get(DST), ...i32(16), ...ADD_I32, ...set(DST),
  ...br(0), ...END, ...END,
  // back to key `keys`, then ones
  ...get(DST_END), ...get(PADDED), ...get(KEYS), ...SUB_I32, ...i32(8), ...MUL_I32, ...SUB_I32, ...set(DST),
  ...BLOCK, ...LOOP,
  ...get(DST), ...get(DST_END), ...GE_U, ...brIf(1),
  ...get(DST), ...f64(1), ...storeF64(0),
  ...get(DST), ...i32(8), ...ADD_I32, ...set(DST),
  ...br(0), ...END, ...END,
  ...END,
];

// --- divergenceRow(rows, stride, heads, len, entropies, totals)
const [ROWS, STRIDE, HEADS, LEN, ENT, AT, A, B, PA] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const ROW_SUM = 0;
const rowOf = (head: number): number[] => [...get(ROWS), ...get(head), ...get(STRIDE), ...MUL_I32, ...ADD_I32];
const entropyOf = (head: number): number[] => [...get(ENT), ...get(head), ...i32(8), ...MUL_I32, ...ADD_I32, ...loadF64(0)];
/** for (v = from; v < HEADS; v++) body */
const forHeads = (v: number, from: number[], body: number[]): number[] => [
  ...from, ...set(v),
  ...BLOCK, ...LOOP,
  ...get(v), ...get(HEADS), ...GE_U, ...brIf(1),
  ...body,
  ...get(v), ...i32(1), ...ADD_I32, ...set(v),
  ...br(0), ...END, ...END,
];
const divergenceRowBody = [
  // H(p) = -(1/2) sum 2p log p
  ...forHeads(A, i32(0), [...get(ENT), ...get(A), ...i32(8), ...MUL_I32, ...ADD_I32, ...f64(-0.5), ...rowOf(A), ...tee(PA), ...get(PA), ...get(LEN), ...call(ROW_SUM), ...MUL_F64, ...storeF64(0)]),
  ...forHeads(A, i32(0), [
    ...rowOf(A), ...set(PA),
    ...forHeads(B, [...get(A), ...i32(1), ...ADD_I32], [
      ...get(AT),
      ...get(AT), ...loadF64(0),
      ...f64(-0.5), ...get(PA), ...rowOf(B), ...get(LEN), ...call(ROW_SUM), ...MUL_F64,
      ...f64(0.5), ...entropyOf(A), ...entropyOf(B), ...ADD_F64, ...MUL_F64, ...SUB_F64,
      ...ADD_F64, ...storeF64(0),
      ...get(AT), ...i32(8), ...ADD_I32, ...set(AT),
    ]),
  ]),
  ...END,
];

const MODULE_BYTES = wasmModule(
  [
    { params: [I32, I32, I32], results: [F64] },
    { params: [I32, I32, I32, I32, F64], results: [] },
    { params: [I32, I32, I32, I32, I32, I32], results: [] },
  ],
  {
    rowSum: { type: 0, locals: [[1, I32], [1, I64], [15, V128]], body: rowSumBody },
    smooth: { type: 1, locals: [[2, I32], [2, V128]], body: smoothBody },
    divergenceRow: { type: 2, locals: [[3, I32]], body: divergenceRowBody },
  },
);

interface DivergenceKernel {
  smooth(src: number, dst: number, keys: number, padded: number, eps: number): void;
  divergenceRow(rows: number, stride: number, heads: number, len: number, entropies: number, totals: number): void;
  memory: WasmMemory;
}

let kernel: DivergenceKernel | undefined;

/** The kernel of this thread, its table and constants in place (compiled on first use). */
function divergenceKernel(): DivergenceKernel {
  if (kernel) return kernel;
  kernel = instantiate<DivergenceKernel>(MODULE_BYTES);
  reserve(kernel.memory, CONSTANTS_AT + CONSTANT_BYTES);
  new Float64Array(kernel.memory.buffer, 0, 2 * CELLS).set(logTable());
  new BigUint64Array(kernel.memory.buffer, CONSTANTS_AT, 2 * CONSTANTS.length).set(CONSTANTS.flatMap((c) => [c, c]));
  return kernel;
}

/**
 * The divergences of every pair of `heads` heads (pairs in the order (0, 1), (0, 2), ...,
 * (1, 2), ...), summed over queries q0 .. q0 + rows - 1 in order. rowsOf(h) holds those
 * queries' rows of head h, keys apart; a causal head's row q is compared over keys 0..q.
 */
export function blockDivergences(heads: number, rowsOf: (head: number) => Float32Array, q0: number, rows: number, keys: number, causal: boolean): Float64Array {
  if (keys > MAX_KEYS) throw new RangeError(`head distances take rows of up to ${MAX_KEYS} keys, not ${keys}`);
  const pairs = (heads * (heads - 1)) / 2;
  const { smooth, divergenceRow, memory } = divergenceKernel();
  const stride = 8 * Math.ceil(keys / STEP) * STEP;
  const rowsAt = CONSTANTS_AT + CONSTANT_BYTES;
  const entropiesAt = rowsAt + heads * stride;
  const totalsAt = entropiesAt + 8 * heads;
  const stagingAt = totalsAt + 8 * pairs;
  // smooth reads keys in twos: the last of an odd row may lie one past the block
  reserve(memory, stagingAt + 4 * heads * rows * keys + 8);
  const staging = new Float32Array(memory.buffer, stagingAt, heads * rows * keys);
  for (let h = 0; h < heads; h++) staging.set(rowsOf(h), h * rows * keys);
  const totals = new Float64Array(memory.buffer, totalsAt, pairs).fill(0);
  for (let q = q0; q < q0 + rows; q++) {
    const rowKeys = causal ? q + 1 : keys;
    const len = Math.ceil(rowKeys / STEP) * STEP;
    for (let h = 0; h < heads; h++) smooth(stagingAt + 4 * (h * rows + q - q0) * keys, rowsAt + h * stride, rowKeys, len, (1 - KEEP) / rowKeys);
    divergenceRow(rowsAt, stride, heads, len, entropiesAt, totalsAt);
  }
  return totals.slice();
}
