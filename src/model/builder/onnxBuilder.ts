// Writes ONNX models from TypeScript: a graph of named tensors, nodes and weights, encoded
// as a ModelProto (IR 8, default opset 17), optionally with weights in an external data file.
import { MessageWriter } from '../protobufWire';
import { ONNX_FLOAT, ONNX_FLOAT16, ONNX_INT64 } from '../onnxGraph';
import { AttrValue, encodedNode, encodedTensor, float16Bits } from '../onnxEncoding';

export interface EncodedModel {
  model: Uint8Array;
  /** the external data file's bytes, when weights were moved out */
  externalData?: Uint8Array;
}

interface Weight {
  name: string;
  dims: number[];
  dataType: number;
  bytes: Uint8Array;
}

export class GraphBuilder {
  private readonly nodes: Uint8Array[] = [];
  private readonly weights: Weight[] = [];
  private readonly inputs: MessageWriter[] = [];
  private readonly outputs: MessageWriter[] = [];
  private counter = 0;
  private readonly domains = new Set<string>();

  /** `namePrefix` starts every generated name: a subgraph's names stay apart from the outer graph's */
  constructor(
    private readonly name: string,
    private readonly namePrefix = '',
  ) {}

  /** A name no other tensor of this builder has. */
  fresh(prefix: string): string {
    return `${this.namePrefix}${prefix}_${this.counter++}`;
  }

  /** A graph input; without dims it declares no shape (as some exporters leave it). */
  input(name: string, elemType: number, dims?: (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    this.weights.push({ name, dims, dataType: ONNX_FLOAT, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  ints(name: string, dims: number[], data: number[]): string {
    const b = BigInt64Array.from(data, (v) => BigInt(v));
    this.weights.push({ name, dims, dataType: ONNX_INT64, bytes: new Uint8Array(b.buffer) });
    return name;
  }

  scalar(value: number): string {
    return this.floats(this.fresh('const'), [], Float32Array.of(value));
  }

  /** Weights of any element type, as their raw little-endian bytes. */
  raw(name: string, dims: number[], dataType: number, bytes: Uint8Array): string {
    this.weights.push({ name, dims, dataType, bytes });
    return name;
  }

  /** Weights stored as float16 (rounded to nearest even). */
  halves(name: string, dims: number[], data: Float32Array): string {
    const h = float16Bits(data);
    this.weights.push({ name, dims, dataType: ONNX_FLOAT16, bytes: new Uint8Array(h.buffer) });
    return name;
  }

  /** Adds a node and returns its first output's name (outputs named `name`, `name_1`, ...). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name?: string, outputCount = 1, domain?: string): string {
    return this.nodeOutputs(opType, inputs, attrs, name, outputCount, domain)[0];
  }

  /** Adds a node and returns all its outputs' names: `outputs` of them named after the node, or the names given. */
  nodeOutputs(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name?: string, outputs: number | string[] = 1, domain?: string): string[] {
    const nodeName = name ?? this.fresh(opType);
    if (typeof outputs === 'number') outputs = Array.from({ length: outputs }, (_, i) => (i === 0 ? `${nodeName}_output` : `${nodeName}_output_${i}`));
    if (domain) this.domains.add(domain);
    this.nodes.push(encodedNode({ opType, inputs, outputs, name: nodeName, domain, attributes: attrs }));
    return outputs;
  }

  /** The graph alone, as an encoded GraphProto: the branch of an If, with its own weights inline. */
  subgraph(): Uint8Array {
    return this.graphProto({}).graph.finish();
  }

  /**
   * The encoded model; weights of at least `externalMinBytes` go to `externalLocation` when given,
   * their location, offset and length replaced by `externalEntries` where it names them (damaged models for tests).
   */
  encode(opts: { opset?: number; externalLocation?: string; externalMinBytes?: number; externalEntries?: Record<string, string> } = {}): EncodedModel {
    const { graph, externalData } = this.graphProto(opts);
    const m = new MessageWriter()
      .int(1, 8)
      .string(2, 'attention-lens')
      .string(3, '1')
      .message(8, new MessageWriter().string(1, '').int(2, opts.opset ?? 17));
    for (const d of this.domains) m.message(8, new MessageWriter().string(1, d).int(2, 1));
    m.message(7, graph);
    return { model: m.finish(), externalData };
  }

  private graphProto(opts: { externalLocation?: string; externalMinBytes?: number; externalEntries?: Record<string, string> }): { graph: MessageWriter; externalData?: Uint8Array } {
    const g = new MessageWriter();
    for (const n of this.nodes) g.bytes(1, n);
    g.string(2, this.name);
    const external: Uint8Array[] = [];
    let externalOffset = 0;
    for (const wt of this.weights) {
      if (!opts.externalLocation || wt.bytes.length < (opts.externalMinBytes ?? 1024)) {
        g.message(5, encodedTensor(wt.name, wt.dims, wt.dataType, wt.bytes));
        continue;
      }
      const t = new MessageWriter();
      for (const d of wt.dims) t.int(1, d);
      t.int(2, wt.dataType).string(8, wt.name);
      const entries = { location: opts.externalLocation, offset: String(externalOffset), length: String(wt.bytes.length), ...opts.externalEntries };
      for (const [k, v] of Object.entries(entries)) t.message(13, new MessageWriter().string(1, k).string(2, v));
      t.int(14, 1);
      external.push(wt.bytes);
      externalOffset += wt.bytes.length;
      g.message(5, t);
    }
    for (const i of this.inputs) g.message(11, i);
    for (const o of this.outputs) g.message(12, o);
    let externalData: Uint8Array | undefined;
    if (external.length) {
      externalData = new Uint8Array(externalOffset);
      let o = 0;
      for (const e of external) {
        externalData.set(e, o);
        o += e.length;
      }
    }
    return { graph: g, externalData };
  }
}

function valueInfo(name: string, elemType: number, dims?: (number | string)[]): MessageWriter {
  const tensor = new MessageWriter().int(1, elemType);
  if (dims) {
    const shape = new MessageWriter();
    for (const d of dims) shape.message(1, typeof d === 'number' ? new MessageWriter().int(1, d) : new MessageWriter().string(2, d));
    tensor.message(2, shape);
  }
  return new MessageWriter().string(1, name).message(2, new MessageWriter().message(1, tensor));
}
