// Reads a serialized ONNX TensorProto (ONNX's backend test data: input_N.pb, output_N.pb) into an
// ONNX Runtime tensor.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { WIRE_BYTES, fieldString, pushInt64s, wireFields } from '../../src/model/protobufWire';

const TYPES: Record<number, { name: ort.Tensor.Type; make: (b: ArrayBuffer) => ort.Tensor.DataType }> = {
  1: { name: 'float32', make: (b) => new Float32Array(b) },
  6: { name: 'int32', make: (b) => new Int32Array(b) },
  7: { name: 'int64', make: (b) => new BigInt64Array(b) },
  9: { name: 'bool', make: (b) => new Uint8Array(b) },
  10: { name: 'float16', make: (b) => new Uint16Array(b) },
};

export function tensorProto(path: string): { name: string; tensor: ort.Tensor } {
  const buf = new Uint8Array(readFileSync(path));
  const dims: number[] = [];
  let type = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const int64s: number[] = [];
  const int32s: number[] = [];
  for (const f of wireFields(buf)) {
    if (f.field === 1) pushInt64s(buf, f, dims);
    else if (f.field === 2) type = f.value;
    else if (f.field === 8) name = fieldString(buf, f);
    else if (f.field === 9) raw = buf.slice(f.start, f.end);
    else if (f.field === 4 && f.wire === WIRE_BYTES) {
      const v = new DataView(buf.buffer, buf.byteOffset + f.start, f.end - f.start);
      for (let i = 0; i < v.byteLength; i += 4) floats.push(v.getFloat32(i, true));
    } else if (f.field === 7) pushInt64s(buf, f, int64s);
    else if (f.field === 5) pushInt64s(buf, f, int32s);
  }
  const t = TYPES[type];
  if (!t) throw new Error(`${path}: tensor type ${type} not read here`);
  let data: ort.Tensor.DataType;
  if (raw) data = t.make(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer);
  else if (type === 1) data = Float32Array.from(floats);
  else if (type === 7) data = BigInt64Array.from(int64s, BigInt);
  else if (type === 10) data = Uint16Array.from(int32s);
  else data = type === 9 ? Uint8Array.from(int32s) : Int32Array.from(int32s);
  if (type === 9) return { name, tensor: new ort.Tensor('bool', data as Uint8Array, dims) };
  return { name, tensor: new ort.Tensor(t.name as 'float32', data as Float32Array, dims) };
}
