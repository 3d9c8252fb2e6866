// The inner loop of the head statistics as a WebAssembly function. In JavaScript V8 checks the
// bounds of every typed-array index (eight per key here); WebAssembly's loads need no checks,
// which makes this loop about three times faster. The module is assembled here, byte by byte,
// from a dozen opcodes (wasmAssembly.ts), so no compiler is needed to build it and nothing is
// read from disk.
//
//   row(p, n, table, om, pre) -> entropy of the row
// reads n float32 weights a_j at byte address p and, for each key j:
//   entropy   += table[c] + a (table[c + 1] + a table[c + 2]),  c = (bits(a_j) >>> CELL_SHIFT) * 4
//   om[j]     += a_j        (float64; the caller points om at the row's first offset)
//   pre[j + 1] = a_0 + ... + a_j   (float64; pre[0] is the caller's zero)
// two keys a step, as the JavaScript loop it replaced did, so the sums are the same to the bit.
//
//   gather(p, idx, count) -> the sum of the weights at p of the count keys listed (int32) at idx
// (the attention of a row to [CLS], [SEP] or punctuation).
import { CELL_SHIFT } from './smoothedEntropy';
import {
  ADD_F64, ADD_I32, AND_I32, BLOCK, END as END_OP, F64, GE_U, I32, IF, LOOP, MUL_F64, PROMOTE, REINTERPRET, SHL, SHR_U, WasmMemory,
  br, brIf, get, i32, instantiate, loadF32, loadF64, loadI32, reserve, set, storeF64, wasmModule,
} from './wasmAssembly';

// locals: the five parameters, then end, c0, c1 (i32) and a0, a1, h0, h1, cum (f64)
const [P, N, TABLE, OM, PRE, END, C0, C1, A0, A1, H0, H1, CUM] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/** One key at byte offset `off` of p: its weight into `a`, its table cell into `c`, its entropy term onto `h`. */
const key = (off: number, a: number, c: number, h: number): number[] => [
  // one load: the weight's bits, read as the weight and as its cell
  ...get(P), ...loadI32(off), ...set(c),
  ...get(c), ...REINTERPRET, ...PROMOTE, ...set(a),
  ...get(TABLE), ...get(c), ...i32(CELL_SHIFT), ...SHR_U, ...i32(5), ...SHL, ...ADD_I32, ...set(c),
  ...get(h), ...get(c), ...loadF64(0), ...get(a), ...get(c), ...loadF64(8), ...get(a), ...get(c), ...loadF64(16), ...MUL_F64, ...ADD_F64, ...MUL_F64, ...ADD_F64, ...ADD_F64, ...set(h),
];
const addToOm = (off: number, a: number): number[] => [...get(OM), ...get(OM), ...loadF64(off), ...get(a), ...ADD_F64, ...storeF64(off)];
const advance = (l: number, bytes: number): number[] => [...get(l), ...i32(bytes), ...ADD_I32, ...set(l)];

const body = [
  // end = p + 4 (n & ~1)
  ...get(P), ...get(N), ...i32(-2), ...AND_I32, ...i32(2), ...SHL, ...ADD_I32, ...set(END),
  ...BLOCK, ...LOOP,
  ...get(P), ...get(END), ...GE_U, ...brIf(1),
  ...key(0, A0, C0, H0), ...key(4, A1, C1, H1),
  ...addToOm(0, A0), ...addToOm(8, A1),
  // cum advances once per pair: pre[j + 1] = cum + a0, pre[j + 2] = cum += a0 + a1
  ...get(PRE), ...get(CUM), ...get(A0), ...ADD_F64, ...storeF64(8),
  ...get(CUM), ...get(A0), ...get(A1), ...ADD_F64, ...ADD_F64, ...set(CUM),
  ...get(PRE), ...get(CUM), ...storeF64(16),
  ...advance(P, 8), ...advance(OM, 16), ...advance(PRE, 16),
  ...br(0), ...END_OP, ...END_OP,
  // an odd n leaves one key
  ...get(N), ...i32(1), ...AND_I32, ...IF,
  ...key(0, A0, C0, H0), ...addToOm(0, A0),
  ...get(CUM), ...get(A0), ...ADD_F64, ...set(CUM),
  ...get(PRE), ...get(CUM), ...storeF64(8),
  ...END_OP,
  ...get(H0), ...get(H1), ...ADD_F64,
  ...END_OP,
];

// gather: locals p, idx, count, then end (i32) and sum (f64)
const [G_P, G_IDX, G_COUNT, G_END, G_SUM] = [0, 1, 2, 3, 4];
const gatherBody = [
  ...get(G_IDX), ...get(G_COUNT), ...i32(2), ...SHL, ...ADD_I32, ...set(G_END),
  ...BLOCK, ...LOOP,
  ...get(G_IDX), ...get(G_END), ...GE_U, ...brIf(1),
  ...get(G_SUM), ...get(G_P), ...get(G_IDX), ...loadI32(0), ...i32(2), ...SHL, ...ADD_I32, ...loadF32(0), ...PROMOTE, ...ADD_F64, ...set(G_SUM),
  ...advance(G_IDX, 4),
  ...br(0), ...END_OP, ...END_OP,
  ...get(G_SUM),
  ...END_OP,
];
const MODULE_BYTES = wasmModule(
  [
    { params: [I32, I32, I32, I32, I32], results: [F64] },
    { params: [I32, I32, I32], results: [F64] },
  ],
  {
    row: { type: 0, locals: [[3, I32], [5, F64]], body },
    gather: { type: 1, locals: [[1, I32], [1, F64]], body: gatherBody },
  },
);

export interface RowKernel {
  row(p: number, n: number, table: number, om: number, pre: number): number;
  gather(p: number, idx: number, count: number): number;
  memory: WasmMemory;
}

let kernel: RowKernel | undefined;

/** The kernel of this thread (compiled on first use; a few hundred bytes). */
export function rowKernel(): RowKernel {
  return (kernel ??= instantiate<RowKernel>(MODULE_BYTES));
}

/** The kernel's memory laid out for heads of n keys: the entropy table, the offset mass, one row's prefix, a list of keys and a block of rows. */
export interface RowSpace {
  tableAt: number;
  omAt: number;
  preAt: number;
  keysAt: number;
  blockAt: number;
  /** rows the block holds */
  blockRows: number;
  om: Float64Array;
  pre: Float64Array;
  keys: Int32Array;
  block: Float32Array;
}

// Rows are copied in blocks of about this size, so the memory stays small at any n.
const BLOCK_BYTES = 1 << 20;
let tableInMemory: Float64Array | undefined;

/** The kernel's memory for this table, n and a list of `keys` keys; views made here last until the next call. */
export function rowSpace(table: Float64Array, n: number, keys: number): RowSpace {
  const { memory } = rowKernel();
  const tableAt = 0;
  const omAt = table.byteLength;
  const preAt = omAt + 8 * (2 * n);
  const keysAt = preAt + 8 * (n + 2);
  const blockAt = keysAt + 8 * Math.ceil(keys / 2);
  const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / (4 * n)));
  const bytes = blockAt + 4 * n * blockRows;
  reserve(memory, bytes);
  if (tableInMemory !== table) {
    new Float64Array(memory.buffer, tableAt, table.length).set(table);
    tableInMemory = table;
  }
  return {
    tableAt,
    omAt,
    preAt,
    keysAt,
    blockAt,
    blockRows,
    om: new Float64Array(memory.buffer, omAt, Math.max(1, 2 * n - 1)),
    pre: new Float64Array(memory.buffer, preAt, n + 1),
    keys: new Int32Array(memory.buffer, keysAt, keys),
    block: new Float32Array(memory.buffer, blockAt, n * blockRows),
  };
}
