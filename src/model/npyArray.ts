// NumPy's .npy format, read: what --input-features gives (the log-mel features a Whisper feature
// extractor computes, saved with numpy.save). Little-endian float32, float16 or float64, C order.
import { InputError } from './inputError';
import { floatOfHalf } from './onnxEncoding';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function npyArray(bytes: Uint8Array, what: string): { data: Float32Array; dims: number[] } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new InputError(`${what} is not a NumPy .npy file`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) throw new InputError(`${what} is a truncated .npy file`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined) throw new InputError(`${what} has a .npy header Attention Lens cannot read: ${header.trim()}`);
  if (fortran === 'True') throw new InputError(`${what} is stored in Fortran order: save it in C order (numpy.ascontiguousarray)`);
  const dims = shape.split(',').map((d) => d.trim()).filter(Boolean).map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d <= 0)) throw new InputError(`${what} has the shape (${shape}), not one of positive sizes`);
  const count = dims.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(start + headerLength);
  const sizes: Record<string, number> = { '<f4': 4, '<f2': 2, '<f8': 8 };
  const size = sizes[descr];
  if (!size) throw new InputError(`${what} holds ${descr} values: give little-endian float32, float16 or float64 features`);
  if (body.length < count * size) throw new InputError(`${what} holds ${Math.floor(body.length / size)} values, fewer than its shape's ${count}`);
  const data = new Float32Array(count);
  const values = new DataView(body.buffer, body.byteOffset, count * size);
  for (let i = 0; i < count; i++) data[i] = size === 4 ? values.getFloat32(4 * i, true) : size === 8 ? values.getFloat64(8 * i, true) : floatOfHalf(values.getUint16(2 * i, true));
  return { data, dims };
}
