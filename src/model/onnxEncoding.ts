// Encodes ONNX NodeProtos and their attributes: shared by the model builder and by the
// rewrites that expose or unfuse attention in a tapped copy.
import { MessageWriter } from './protobufWire';

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | { graph: Uint8Array };

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_GRAPH = 5;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

export function attributeMessage(name: string, v: AttrValue): MessageWriter {
  const a = new MessageWriter().string(1, name);
  if (typeof v === 'number') return a.int(20, ATTR_INT).int(3, v);
  if (typeof v === 'string') return a.int(20, ATTR_STRING).string(4, v);
  if (Array.isArray(v)) {
    a.int(20, ATTR_INTS);
    for (const x of v) a.int(8, x);
    return a;
  }
  if ('graph' in v) return a.int(20, ATTR_GRAPH).bytes(6, v.graph);
  if ('floats' in v) {
    a.int(20, ATTR_FLOATS);
    for (const x of v.floats) a.float(7, x);
    return a;
  }
  return a.int(20, ATTR_FLOAT).float(2, v.float);
}

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  domain?: string;
  attributes?: Record<string, AttrValue>;
}

export function encodedNode(spec: NodeSpec): Uint8Array {
  const w = new MessageWriter();
  for (const i of spec.inputs) w.string(1, i);
  for (const o of spec.outputs) w.string(2, o);
  w.string(3, spec.name).string(4, spec.opType);
  for (const [k, v] of Object.entries(spec.attributes ?? {})) w.message(5, attributeMessage(k, v));
  if (spec.domain) w.string(7, spec.domain);
  return w.finish();
}

/** A TensorProto holding its data as raw little-endian bytes. */
export function encodedTensor(name: string, dims: readonly number[], dataType: number, bytes: Uint8Array): MessageWriter {
  const t = new MessageWriter();
  for (const d of dims) t.int(1, d);
  return t.int(2, dataType).string(8, name).bytes(9, bytes);
}

/** float32 values as IEEE half-precision bit patterns, rounded to nearest even. */
export function float16Bits(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < data.length; i++) {
    f[0] = data[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      const m = mant | 0x800000;
      const shift = 14 - e;
      let h = m >>> shift;
      const rest = m & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rest > half || (rest === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
}

/** The value of an IEEE half-precision bit pattern. */
export function floatOfHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
