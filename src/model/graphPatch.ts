// New nodes and constants for a rewritten graph, named under one prefix (the node they stand in
// for, and its index) so that they stay apart from the model's own tensors.
import { ONNX_FLOAT16, ONNX_INT64 } from './onnxGraph';
import { AttrValue, encodedNode, encodedTensor, float16Bits } from './onnxEncoding';

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
