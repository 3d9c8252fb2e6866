// The matrix product of attention rollout (attentionRollout.ts) as WebAssembly: out = a b for
// n x n float64 matrices in the kernel's memory, row by row, each row of b scaled and added in
// f64x2 lanes (zeros of a skipped: causal layers are zero past the diagonal). In JavaScript the
// same loop runs a few times slower; the sums are taken over k in the same order.
//
//   product(a, b, out, n): n even, the matrices row-major at byte offsets a, b and out, out zeroed
import { ADD_F64X2, ADD_I32, BLOCK, END, F64, GE_U, I32, IF, LOOP, MUL_F64X2, MUL_I32, NE_F64, V128, WasmMemory, br, brIf, f64, get, i32, instantiate, loadF64, loadV128, reserve, set, splatF64, storeV128, tee, wasmModule } from './wasmAssembly';

const [A, B, OUT, N, I, K, ROW, END_ROW, OP, BP, X, XS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const addScaled = (off: number): number[] => [...get(OP), ...get(OP), ...loadV128(off), ...get(XS), ...get(BP), ...loadV128(off), ...MUL_F64X2, ...ADD_F64X2, ...storeV128(off)];
const advance = (l: number, bytes: number): number[] => [...get(l), ...i32(bytes), ...ADD_I32, ...set(l)];

const body = [
  ...BLOCK, ...LOOP, // i
  ...get(I), ...get(N), ...GE_U, ...brIf(1),
  // this row of out: [ROW, END_ROW)
  ...get(OUT), ...get(I), ...get(N), ...MUL_I32, ...i32(8), ...MUL_I32, ...ADD_I32, ...tee(ROW), ...get(N), ...i32(8), ...MUL_I32, ...ADD_I32, ...set(END_ROW),
  ...i32(0), ...set(K),
  ...BLOCK, ...LOOP, // k
  ...get(K), ...get(N), ...GE_U, ...brIf(1),
  // x = a[i][k]
  ...get(A), ...get(I), ...get(N), ...MUL_I32, ...get(K), ...ADD_I32, ...i32(8), ...MUL_I32, ...ADD_I32, ...loadF64(0), ...set(X),
  ...get(X), ...f64(0), ...NE_F64, ...IF,
  ...get(X), ...splatF64, ...set(XS),
  ...get(ROW), ...set(OP),
  ...get(B), ...get(K), ...get(N), ...MUL_I32, ...i32(8), ...MUL_I32, ...ADD_I32, ...set(BP),
  ...BLOCK, ...LOOP, // j, two lanes at a time
  ...get(OP), ...get(END_ROW), ...GE_U, ...brIf(1),
  ...addScaled(0),
  ...advance(OP, 16), ...advance(BP, 16),
  ...br(0), ...END, ...END,
  ...END,
  ...advance(K, 1),
  ...br(0), ...END, ...END,
  ...advance(I, 1),
  ...br(0), ...END, ...END,
  ...END,
];

const MODULE_BYTES = wasmModule([{ params: [I32, I32, I32, I32], results: [] }], {
  product: { type: 0, locals: [[6, I32], [1, F64], [1, V128]], body },
});

interface ProductKernel {
  product(a: number, b: number, out: number, n: number): void;
  memory: WasmMemory;
}

let kernel: ProductKernel | undefined;

/** The kernel's memory laid out for three n x n matrices (n even): views of them, valid until the next call. */
export function productSpace(n: number): { kernel: ProductKernel; at: [number, number, number]; views: [Float64Array, Float64Array, Float64Array] } {
  kernel ??= instantiate<ProductKernel>(MODULE_BYTES);
  const bytes = 8 * n * n;
  reserve(kernel.memory, 3 * bytes);
  const at: [number, number, number] = [0, bytes, 2 * bytes];
  return { kernel, at, views: at.map((o) => new Float64Array(kernel!.memory.buffer, o, n * n)) as [Float64Array, Float64Array, Float64Array] };
}
