// The pieces of the WebAssembly binary format that the kernels (rowKernel.ts, divergenceKernel.ts)
// are assembled from, byte by byte: no compiler is needed to build them and nothing is read
// from disk. An instruction is a list of bytes; a function body is their concatenation.

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const V128 = 0x7b;

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// locals and constants
export const get = (l: number): number[] => [0x20, l];
export const set = (l: number): number[] => [0x21, l];
export const tee = (l: number): number[] => [0x22, l];
export const i32 = (v: number): number[] => [0x41, ...sleb(v)];
export const i64 = (v: number): number[] => [0x42, ...sleb(v)];
export const f64 = (v: number): number[] => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];

// memory: the offset is added to the address on the stack
export const loadF32 = (off: number): number[] => [0x2a, 2, ...uleb(off)];
export const loadI32 = (off: number): number[] => [0x28, 2, ...uleb(off)];
export const loadF64 = (off: number): number[] => [0x2b, 3, ...uleb(off)];
export const storeF64 = (off: number): number[] => [0x39, 3, ...uleb(off)];

// scalar arithmetic
export const [ADD_I32, SUB_I32, MUL_I32, AND_I32, SHL, SHR_U, GE_U] = [[0x6a], [0x6b], [0x6c], [0x71], [0x74], [0x76], [0x4f]];
export const NE_F64 = [0x62];
export const [ADD_F64, SUB_F64, MUL_F64, PROMOTE, REINTERPRET] = [[0xa0], [0xa1], [0xa2], [0xbb], [0xbe]];
export const [SHR_U_I64, WRAP] = [[0x88], [0xa7]];

// control
export const [BLOCK, LOOP, IF, END] = [[0x02, 0x40], [0x03, 0x40], [0x04, 0x40], [0x0b]];
export const br = (depth: number): number[] => [0x0c, depth];
export const brIf = (depth: number): number[] => [0x0d, depth];
export const call = (fn: number): number[] => [0x10, ...uleb(fn)];

// 128-bit SIMD (two f64 or i64 lanes, four i32 or f32 lanes)
const simd = (op: number, ...immediates: number[]): number[] => [0xfd, ...uleb(op), ...immediates];
export const loadV128 = (off: number): number[] => simd(0x00, 4, ...uleb(off));
export const storeV128 = (off: number): number[] => simd(0x0b, 4, ...uleb(off));
/** two float32 into the low lanes */
export const loadF32x2 = (off: number): number[] => simd(0x5d, 3, ...uleb(off));
export const constF64x2 = (v: number): number[] => simd(0x0c, ...new Uint8Array(Float64Array.of(v, v).buffer));
/** lanes 0..15 from a, 16..31 from b */
export const shuffle = (lanes: number[]): number[] => simd(0x0d, ...lanes);
export const splatF64 = simd(0x14);
export const extractI64 = (lane: number): number[] => simd(0x1d, lane);
export const extractF64 = (lane: number): number[] => simd(0x21, lane);
export const [GT_F64X2, AND_V128, OR_V128, BITSELECT] = [simd(0x4a), simd(0x4e), simd(0x50), simd(0x52)];
export const [DEMOTE_F64X2, PROMOTE_F32X4] = [simd(0x5e), simd(0x5f)];
export const SHR_U_I64X2 = simd(0xcd);
export const [ADD_F64X2, SUB_F64X2, MUL_F64X2] = [simd(0xf0), simd(0xf1), simd(0xf2)];

/** A function: its type's index, its locals as [count, type] runs after the parameters, its body (ending in END). */
interface WasmFunction {
  type: number;
  locals: [number, number][];
  body: number[];
}

/** A module of one memory (exported as 'memory') and these functions, exported under their names. */
export function wasmModule(types: { params: number[]; results: number[] }[], functions: Record<string, WasmFunction>): Uint8Array {
  const fns = Object.values(functions);
  const code = fns.map((f) => {
    const bytes = [...vec(f.locals), ...f.body];
    return [...uleb(bytes.length), ...bytes];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types.map((t) => [0x60, ...vec(t.params.map((p) => [p])), ...vec(t.results.map((r) => [r]))]))),
    ...section(3, vec(fns.map((f) => uleb(f.type)))),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([...Object.keys(functions).map((n, i) => [...name(n), 0x00, ...uleb(i)]), [...name('memory'), 0x02, 0]])),
    ...section(10, vec(code)),
  ]);
}

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

const PAGE_BYTES = 65536;

/** Grows `memory` to at least `bytes`. */
export function reserve(memory: WasmMemory, bytes: number): void {
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
}

// WebAssembly's types come with the DOM library, which the host code is built without.
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

/** The exports of a module compiled and instantiated here (with no imports). */
export function instantiate<T>(bytes: Uint8Array): T {
  const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  return new wasm.Instance(new wasm.Module(bytes)).exports as T;
}
