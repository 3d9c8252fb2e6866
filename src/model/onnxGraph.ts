// Reads the structure of an ONNX ModelProto (nodes, inputs, outputs, initializer shapes)
// straight from the wire format, leaving weights as byte ranges, and writes a copy of the
// model with extra graph outputs.
import {
  MessageWriter,
  ProtobufError,
  WIRE_BYTES,
  WIRE_FIXED32,
  WireField,
  fieldFloat32,
  fieldInt64,
  fieldString,
  pushInt64s,
  wireFields,
} from './protobufWire';
import { InputError } from './inputError';
import { AttrValue, attributeMessage } from './onnxEncoding';

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_INT32 = 6;
export const ONNX_FLOAT16 = 10;
export const ONNX_BOOL = 9;

export interface OnnxAttribute {
  name: string;
  i?: number;
  f?: number;
  s?: string;
  ints?: number[];
  /** an encoded GraphProto (the branches of If, the bodies of Loop and Scan) */
  g?: Uint8Array;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
  /** the encoded NodeProto, for rewriting a node */
  bytes: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** dims: a number for a fixed size, a string for a named one, null when unnamed */
  dims?: (number | string | null)[];
}

export interface ExternalDataRef {
  location: string;
  offsetBytes: number;
  lengthBytes?: number;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  dataType: number;
  external?: ExternalDataRef;
}

/** A GraphProto's structure: the main graph, or a subgraph held by a node's attribute. */
export interface OnnxGraph {
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: Map<string, OnnxInitializer>;
  /** types and shapes the exporter recorded for intermediate tensors */
  valueInfo: Map<string, OnnxValueInfo>;
}

export interface OnnxModel extends OnnxGraph {
  bytes: Uint8Array;
  irVersion: number;
  producer: string;
  opsets: Map<string, number>;
  hasLocalFunctions: boolean;
}

/** The file is not an ONNX model, or is damaged: a user-facing message. */
export class ModelFormatError extends InputError {}

function decodeAttribute(buf: Uint8Array, start: number, end: number): OnnxAttribute {
  const a: OnnxAttribute = { name: '' };
  for (const f of wireFields(buf, start, end)) {
    if (f.field === 1) a.name = fieldString(buf, f);
    else if (f.field === 2 && f.wire === WIRE_FIXED32) a.f = fieldFloat32(buf, f);
    else if (f.field === 3) a.i = fieldInt64(buf, f);
    else if (f.field === 4) a.s = fieldString(buf, f);
    else if (f.field === 8) pushInt64s(buf, f, (a.ints ??= []));
    else if (f.field === 6 && f.wire === WIRE_BYTES) a.g = buf.subarray(f.start, f.end);
  }
  return a;
}

function decodeNode(buf: Uint8Array, start: number, end: number): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map(), bytes: buf.subarray(start, end) };
  for (const f of wireFields(buf, start, end)) {
    if (f.field === 1) n.inputs.push(fieldString(buf, f));
    else if (f.field === 2) n.outputs.push(fieldString(buf, f));
    else if (f.field === 3) n.name = fieldString(buf, f);
    else if (f.field === 4) n.opType = fieldString(buf, f);
    else if (f.field === 7) n.domain = fieldString(buf, f);
    else if (f.field === 5) {
      const a = decodeAttribute(buf, f.start, f.end);
      n.attributes.set(a.name, a);
    }
  }
  return n;
}

function decodeValueInfo(buf: Uint8Array, start: number, end: number): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0 };
  for (const f of wireFields(buf, start, end)) {
    if (f.field === 1) v.name = fieldString(buf, f);
    else if (f.field === 2) {
      for (const t of wireFields(buf, f.start, f.end)) {
        if (t.field !== 1) continue; // tensor_type
        for (const tt of wireFields(buf, t.start, t.end)) {
          if (tt.field === 1) v.elemType = tt.value;
          else if (tt.field === 2) {
            v.dims = [];
            for (const d of wireFields(buf, tt.start, tt.end)) {
              if (d.field !== 1) continue;
              let dim: number | string | null = null;
              for (const dv of wireFields(buf, d.start, d.end)) {
                if (dv.field === 1) dim = fieldInt64(buf, dv);
                else if (dv.field === 2) dim = fieldString(buf, dv);
              }
              v.dims.push(dim);
            }
          }
        }
      }
    }
  }
  return v;
}

function decodeInitializer(buf: Uint8Array, start: number, end: number): OnnxInitializer {
  const t: OnnxInitializer = { name: '', dims: [], dataType: 0 };
  let external = false;
  const entries = new Map<string, string>();
  for (const f of wireFields(buf, start, end)) {
    if (f.field === 1) pushInt64s(buf, f, t.dims);
    else if (f.field === 2) t.dataType = f.value;
    else if (f.field === 8) t.name = fieldString(buf, f);
    else if (f.field === 14) external = f.value === 1;
    else if (f.field === 13) {
      let key = '';
      let value = '';
      for (const e of wireFields(buf, f.start, f.end)) {
        if (e.field === 1) key = fieldString(buf, e);
        else if (e.field === 2) value = fieldString(buf, e);
      }
      entries.set(key, value);
    }
  }
  if (external) {
    const location = entries.get('location');
    if (!location) throw new ModelFormatError(`initializer '${t.name}' is stored externally but names no file`);
    const length = entries.get('length');
    t.external = { location, offsetBytes: Number(entries.get('offset') ?? 0), lengthBytes: length === undefined ? undefined : Number(length) };
  }
  return t;
}

function graphField(buf: Uint8Array): WireField | undefined {
  let graph: WireField | undefined;
  for (const f of wireFields(buf)) if (f.field === 7 && f.wire === WIRE_BYTES) graph = f;
  return graph;
}

function decodeGraph(buf: Uint8Array, start: number, end: number, into: OnnxGraph): void {
  for (const f of wireFields(buf, start, end)) {
    if (f.wire !== WIRE_BYTES) continue;
    if (f.field === 1) into.nodes.push(decodeNode(buf, f.start, f.end));
    else if (f.field === 11) into.inputs.push(decodeValueInfo(buf, f.start, f.end));
    else if (f.field === 12) into.outputs.push(decodeValueInfo(buf, f.start, f.end));
    else if (f.field === 13) {
      const v = decodeValueInfo(buf, f.start, f.end);
      into.valueInfo.set(v.name, v);
    } else if (f.field === 5) {
      const init = decodeInitializer(buf, f.start, f.end);
      into.initializers.set(init.name, init);
    }
  }
}

/** The structure of a subgraph (an If branch, a Loop body) from its encoded GraphProto. */
export function subgraph(bytes: Uint8Array): OnnxGraph {
  const g: OnnxGraph = { nodes: [], inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
  try {
    decodeGraph(bytes, 0, bytes.length, g);
  } catch (e) {
    if (e instanceof ProtobufError) throw new ModelFormatError(`a subgraph of the model is damaged (${e.message})`);
    throw e;
  }
  return g;
}

/** Decodes the model's structure; throws ModelFormatError with what is wrong. */
export function onnxModel(bytes: Uint8Array, what = 'the file'): OnnxModel {
  if (bytes.length === 0) throw new ModelFormatError(`${what} is empty (0 bytes): not an ONNX model`);
  const model: OnnxModel = {
    bytes,
    irVersion: 0,
    producer: '',
    opsets: new Map(),
    nodes: [],
    inputs: [],
    outputs: [],
    initializers: new Map(),
    valueInfo: new Map(),
    hasLocalFunctions: false,
  };
  let graph: WireField | undefined;
  try {
    for (const f of wireFields(bytes)) {
      if (f.field === 1 && f.wire === 0) model.irVersion = f.value;
      else if (f.field === 2 && f.wire === WIRE_BYTES) model.producer = fieldString(bytes, f);
      else if (f.field === 7 && f.wire === WIRE_BYTES) graph = f;
      else if (f.field === 25) model.hasLocalFunctions = true;
      else if (f.field === 8 && f.wire === WIRE_BYTES) {
        let domain = '';
        let version = 0;
        for (const o of wireFields(bytes, f.start, f.end)) {
          if (o.field === 1) domain = fieldString(bytes, o);
          else if (o.field === 2) version = o.value;
        }
        model.opsets.set(domain === 'ai.onnx' ? '' : domain, version);
      }
    }
    if (!graph || model.irVersion <= 0 || model.irVersion > 100) {
      throw new ModelFormatError(`${what} is not an ONNX model: no ModelProto with an IR version and a graph`);
    }
    decodeGraph(bytes, graph.start, graph.end, model);
  } catch (e) {
    if (e instanceof ProtobufError) {
      throw new ModelFormatError(`${what} is not a readable ONNX model (damaged or truncated protobuf: ${e.message})`);
    }
    throw e;
  }
  if (model.nodes.length === 0) throw new ModelFormatError(`${what} is not an ONNX model: its graph has no nodes`);
  // IR < 4 lists initializers among the inputs too; they are weights, not inputs.
  model.inputs = model.inputs.filter((i) => !model.initializers.has(i.name));
  return model;
}

// Ops whose output type is not their data input's.
const TYPE_CHANGING_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'NonZero', 'IsNaN', 'IsInf', 'TopK']);

const producerMaps = new WeakMap<OnnxNode[], Map<string, OnnxNode>>();

/** The node that produces each tensor of a graph; made once per graph. */
export function producers(graph: OnnxGraph): Map<string, OnnxNode> {
  let map = producerMaps.get(graph.nodes);
  if (!map) {
    map = new Map();
    for (const n of graph.nodes) for (const o of n.outputs) map.set(o, n);
    producerMaps.set(graph.nodes, map);
  }
  return map;
}

/**
 * A tensor's element type where the graph tells it: an input, a recorded shape, an initializer,
 * or through the nodes that produce it (a Cast's target, else its data input's type).
 */
export function tensorElemType(graph: OnnxGraph, tensor: string): number | undefined {
  const producer = producers(graph);
  for (let t = tensor, depth = 0; t && depth < 64; depth++) {
    const known = graph.inputs.find((i) => i.name === t)?.elemType || graph.valueInfo.get(t)?.elemType || graph.initializers.get(t)?.dataType;
    if (known) return known;
    const p = producer.get(t);
    if (!p) return undefined;
    if (p.opType === 'Cast') return p.attributes.get('to')?.i;
    if (TYPE_CHANGING_OPS.has(p.opType)) return undefined;
    t = p.opType === 'Where' ? p.inputs[1] : p.inputs[0];
  }
  return undefined;
}

/** Encodes a ValueInfoProto that names a tensor and nothing else: ORT infers its type. */
function namedValueInfo(name: string): MessageWriter {
  return new MessageWriter().string(1, name);
}

export interface ModelRewrite {
  /** names of tensors to add as graph outputs */
  extraOutputs: string[];
  /** replacement encodings for nodes, by node index: a node may become several, or none */
  nodeBytes?: Map<number, Uint8Array[]>;
  /** inline bytes for externally stored initializers, by name */
  inlineData?: Map<string, Uint8Array>;
  /** encoded TensorProtos to add as initializers */
  initializers?: Uint8Array[];
  /** element types to declare for new tensors whose type ONNX Runtime cannot infer */
  valueTypes?: Map<string, number>;
}

/** A copy of the model's bytes with the graph rewritten; everything else is copied verbatim. */
export function rewrittenModelBytes(model: OnnxModel, rewrite: ModelRewrite): Uint8Array {
  const buf = model.bytes;
  const graph = graphField(buf);
  if (!graph) throw new ModelFormatError('the model has no graph');
  const g = rewrittenGraph(buf.subarray(graph.start, graph.end), rewrite);
  const m = new MessageWriter();
  for (const f of wireFields(buf)) {
    if (f.tagStart === graph.tagStart) m.message(7, g);
    else m.raw(buf.subarray(f.tagStart, f.end));
  }
  return m.finish();
}

/** An encoded GraphProto with nodes replaced, initializers inlined or added, outputs and types added. */
export function rewrittenGraph(buf: Uint8Array, rewrite: ModelRewrite): MessageWriter {
  const g = new MessageWriter();
  let nodeIndex = 0;
  for (const f of wireFields(buf)) {
    const whole = buf.subarray(f.tagStart, f.end);
    if (f.field === 1 && f.wire === WIRE_BYTES) {
      const replacement = rewrite.nodeBytes?.get(nodeIndex++);
      if (replacement) for (const r of replacement) g.bytes(1, r);
      else g.raw(whole);
    } else if (f.field === 5 && f.wire === WIRE_BYTES && rewrite.inlineData?.size) {
      const init = decodeInitializer(buf, f.start, f.end);
      const data = rewrite.inlineData.get(init.name);
      if (!data) {
        g.raw(whole);
        continue;
      }
      const t = new MessageWriter();
      for (const tf of wireFields(buf, f.start, f.end)) {
        if (tf.field !== 13 && tf.field !== 14) t.raw(buf.subarray(tf.tagStart, tf.end));
      }
      t.bytes(9, data);
      g.message(5, t);
    } else {
      g.raw(whole);
    }
  }
  for (const t of rewrite.initializers ?? []) g.bytes(5, t);
  for (const [name, elemType] of rewrite.valueTypes ?? []) {
    const tensorType = new MessageWriter().int(1, elemType);
    g.message(13, new MessageWriter().string(1, name).message(2, new MessageWriter().message(1, tensorType)));
  }
  for (const name of rewrite.extraOutputs) g.message(12, namedValueInfo(name));
  return g;
}

/**
 * A node re-encoded with attributes set (replacing any of the same name), its outputs replaced
 * or appended to; every other field is copied as it was.
 */
export function reencodedNode(node: OnnxNode, change: { attributes?: Record<string, AttrValue>; outputs?: readonly string[]; extraOutputs?: readonly string[] }): Uint8Array {
  const set = change.attributes ?? {};
  const w = new MessageWriter();
  for (const f of wireFields(node.bytes)) {
    if (f.field === 5 && decodeAttribute(node.bytes, f.start, f.end).name in set) continue;
    if (f.field === 2 && change.outputs) continue;
    w.raw(node.bytes.subarray(f.tagStart, f.end));
  }
  for (const o of [...(change.outputs ?? []), ...(change.extraOutputs ?? [])]) w.string(2, o);
  for (const [name, value] of Object.entries(set)) w.message(5, attributeMessage(name, value));
  return w.finish();
}
