// Minimal protobuf wire-format reading and writing: enough to walk an ONNX ModelProto
// without decoding its weights (they stay byte ranges of the file) and to write new messages.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufError extends Error {}

/** One field of a message: its number, wire type, and where its value lies in the buffer. */
export interface WireField {
  field: number;
  wire: number;
  /** varint value (wire 0) as a number; exact up to 2^53 */
  value: number;
  /** start and end of the field's payload (wire 2) or its value bytes (wire 1, 5) */
  start: number;
  end: number;
  /** start of the field's tag: the whole field is bytes [tagStart, end) */
  tagStart: number;
}

function readVarint(buf: Uint8Array, pos: number, limit: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= limit) throw new ProtobufError('truncated varint');
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) return [result, pos];
    scale *= 128;
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

/** Iterates the fields of the message in buf[start, end); throws ProtobufError on malformed data. */
export function* wireFields(buf: Uint8Array, start = 0, end = buf.length): Generator<WireField> {
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const [tag, p1] = readVarint(buf, pos, end);
    pos = p1;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw new ProtobufError('field number 0');
    switch (wire) {
      case WIRE_VARINT: {
        const [v, p2] = readVarint(buf, pos, end);
        yield { field, wire, value: v, start: pos, end: p2, tagStart };
        pos = p2;
        break;
      }
      case WIRE_FIXED64:
        if (pos + 8 > end) throw new ProtobufError('truncated fixed64');
        yield { field, wire, value: 0, start: pos, end: pos + 8, tagStart };
        pos += 8;
        break;
      case WIRE_BYTES: {
        const [len, p2] = readVarint(buf, pos, end);
        if (p2 + len > end) throw new ProtobufError(`length-delimited field ${field} runs past its message`);
        yield { field, wire, value: len, start: p2, end: p2 + len, tagStart };
        pos = p2 + len;
        break;
      }
      case WIRE_FIXED32:
        if (pos + 4 > end) throw new ProtobufError('truncated fixed32');
        yield { field, wire, value: 0, start: pos, end: pos + 4, tagStart };
        pos += 4;
        break;
      default:
        throw new ProtobufError(`unknown wire type ${wire}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

export function fieldString(buf: Uint8Array, f: WireField): string {
  return utf8.decode(buf.subarray(f.start, f.end));
}

// Signed 64-bit varint in buf[start, end) as a number (negatives are ten-byte two's complement).
function signedVarint(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 10) {
    let v = 0;
    for (let i = end - 1; i >= start; i--) v = v * 128 + (buf[i] & 0x7f);
    return v;
  }
  let v = 0n;
  for (let i = end - 1; i >= start; i--) v = (v << 7n) | BigInt(buf[i] & 0x7f);
  return Number(BigInt.asIntN(64, v));
}

export function fieldInt64(buf: Uint8Array, f: WireField): number {
  return signedVarint(buf, f.start, f.end);
}

/** Repeated int64 in either packed (wire 2) or unpacked (wire 0) encoding. */
export function pushInt64s(buf: Uint8Array, f: WireField, out: number[]): void {
  if (f.wire === WIRE_VARINT) {
    out.push(fieldInt64(buf, f));
    return;
  }
  let i = f.start;
  while (i < f.end) {
    const s = i;
    while (i < f.end && buf[i] >= 0x80) i++;
    if (i >= f.end) throw new ProtobufError('truncated packed varint');
    i++;
    out.push(signedVarint(buf, s, i));
  }
}

export function fieldFloat32(buf: Uint8Array, f: WireField): number {
  return new DataView(buf.buffer, buf.byteOffset + f.start, 4).getFloat32(0, true);
}

/** Writes protobuf messages; fields appended in call order. */
export class MessageWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  private flushScratch(): void {
    if (this.scratch.length) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.size += this.scratch.length;
      this.scratch = [];
    }
  }

  private varint(v: number | bigint): void {
    let x = typeof v === 'bigint' ? BigInt.asUintN(64, v) : v < 0 ? BigInt.asUintN(64, BigInt(v)) : v;
    if (typeof x === 'bigint') {
      while (x >= 0x80n) {
        this.scratch.push(Number(x & 0x7fn) | 0x80);
        x >>= 7n;
      }
      this.scratch.push(Number(x));
      return;
    }
    while (x >= 0x80) {
      this.scratch.push((x % 128) | 0x80);
      x = Math.floor(x / 128);
    }
    this.scratch.push(x);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(data.length);
    this.flushScratch();
    this.chunks.push(data);
    this.size += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8Encoder.encode(s));
  }

  message(field: number, m: MessageWriter): this {
    return this.bytes(field, m.finish());
  }

  packedInts(field: number, values: readonly number[]): this {
    const inner = new MessageWriter();
    for (const v of values) inner.varint(v);
    inner.flushScratch();
    return this.bytes(field, inner.finish());
  }

  /** Copies an already-encoded field (tag included) verbatim. */
  raw(data: Uint8Array): this {
    this.flushScratch();
    this.chunks.push(data);
    this.size += data.length;
    return this;
  }

  finish(): Uint8Array {
    this.flushScratch();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [out];
    return out;
  }
}
