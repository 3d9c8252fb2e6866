// New nodes and constants for a rewritten graph, named under one prefix (the node they stand in
// for, and its index) so that they stay apart from the model's own tensors.
import { ModelRewrite, ONNX_FLOAT16, ONNX_INT64 } from './onnxGraph';
import { AttrValue, encodedNode, encodedTensor, float16Bits } from './onnxEncoding';

/** What a patch changes in a graph: a node replaced, the constants and declared types it needs. */
export interface NodePatch {
  /** a node replaced to expose the probabilities: an attribute set, an output added, or the op unfused */
  replace?: { node: number; with: Uint8Array[] };
  /** constants the replacement needs, as encoded TensorProtos */
  initializers?: Uint8Array[];
  /** element types of tensors the replacement adds that ONNX Runtime cannot infer */
  valueTypes?: [string, number][];
}

/** The rewrite of a graph that applies these patches and adds these outputs. */
export function patchRewrite(patches: readonly NodePatch[], extraOutputs: string[]): ModelRewrite {
  return {
    extraOutputs,
    nodeBytes: new Map(patches.flatMap((p) => (p.replace ? [[p.replace.node, p.replace.with] as const] : []))),
    initializers: patches.flatMap((p) => p.initializers ?? []),
    valueTypes: new Map(patches.flatMap((p) => p.valueTypes ?? [])),
  };
}

/** Emits the nodes and constants of a rewrite, named under one prefix. */
export class GraphPatch {
  readonly nodes: Uint8Array[] = [];
  readonly initializers: Uint8Array[] = [];
  private count = 0;

  constructor(
    private readonly prefix: string,
    private readonly floatType: number,
  ) {}

  name(label: string): string {
    return `${this.prefix}/${label}_${this.count++}`;
  }

  op(opType: string, inputs: string[], attributes: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? this.name(opType);
    this.nodes.push(encodedNode({ opType, inputs, outputs: [out], name: `${out}/node`, attributes }));
    return out;
  }

  ints(values: number[], scalar = false): string {
    const name = this.name('const');
    this.initializers.push(encodedTensor(name, scalar ? [] : [values.length], ONNX_INT64, new Uint8Array(BigInt64Array.from(values, BigInt).buffer)).finish());
    return name;
  }

  /** A scalar of the model's float type. */
  float(value: number): string {
    const name = this.name('const');
    const bytes = this.floatType === ONNX_FLOAT16 ? new Uint8Array(float16Bits(Float32Array.of(value)).buffer) : new Uint8Array(Float32Array.of(value).buffer);
    this.initializers.push(encodedTensor(name, [], this.floatType, bytes).finish());
    return name;
  }
}
