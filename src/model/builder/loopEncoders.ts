// Encoders whose attention layer sits in the body of a subgraph op: a Loop that applies one
// shared layer again and again (ALBERT's shared weights), and a Scan over stacked per-layer
// weights (how jax2onnx and tf2onnx export a scanned stack of layers); and the unrolled twin of
// each, with the same weights. 'loop-per-token' runs the shared layer once per token: its number
// of iterations changes with the text. Test fixtures.
import { seededNormals } from '../../analysis/seededRandom';
import { ONNX_BOOL, ONNX_FLOAT, ONNX_INT64 } from '../onnxGraph';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export const LOOP_SHAPE = { layers: 3, heads: 2, headDim: 4, vocab: 30, maxPositions: 16 };

export type LoopLayout = 'loop' | 'scan' | 'unrolled-loop' | 'unrolled-scan' | 'loop-per-token';

export function loopEncoder(layout: LoopLayout, seed = 'loop encoder'): EncodedModel {
  const { layers, heads, headDim, vocab, maxPositions } = LOOP_SHAPE;
  const hidden = heads * headDim;
  const g = new GraphBuilder(`${layout} encoder`);
  const normal = (name: string, count: number, scale: number): Float32Array => seededNormals(count, `${seed} ${name}`).map((v) => v * scale);
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', ONNX_INT64, ['batch', 'sequence']);
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1], [1]), g.ints('two', [1], [2])]);
  const positions = g.node('Slice', [g.floats('positions', [maxPositions, hidden], normal('positions', maxPositions * hidden, 0.5)), g.ints('zero', [1], [0]), seqLen, g.ints('axis0', [1], [0])]);
  const x0 = g.node('Add', [g.node('Gather', [g.floats('tokens', [vocab, hidden], normal('tokens', vocab * hidden, 1)), ids]), positions]);
  const maskAdd = g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [g.scalar(1), g.node('Cast', [mask], { to: ONNX_FLOAT })]), g.scalar(-10000)]), g.ints('axes12', [2], [1, 2])]);
  g.ints('heads_shape', [4], [0, 0, heads, headDim]);
  g.ints('merged_shape', [3], [0, 0, hidden]);
  g.floats('sqrt_d', [], Float32Array.of(Math.sqrt(headDim)));
  // the shared layer's weights (Loop), or each layer's stacked on a first axis (Scan)
  const names = ['wq', 'wk', 'wv', 'wo'];
  const shared = Object.fromEntries(names.map((w) => [w, normal(w, hidden * hidden, 1 / Math.sqrt(hidden))]));
  const stacked = Object.fromEntries(names.map((w) => [w, normal(`${w} stacked`, layers * hidden * hidden, 1 / Math.sqrt(hidden))]));
  const perLayer = (w: string, l: number): Float32Array => stacked[w].subarray(l * hidden * hidden, (l + 1) * hidden * hidden);

  /** One attention layer into `b` on x [batch, sequence, hidden] (or [sequence, hidden] in a Scan, unsqueezed to a batch of 1). */
  const layer = (b: GraphBuilder, x: string, w: Record<string, string>, label: string): string => {
    const split = (t: string): string => b.node('Transpose', [b.node('Reshape', [t, 'heads_shape'])], { perm: [0, 2, 1, 3] });
    const q = split(b.node('MatMul', [x, w.wq]));
    const k = split(b.node('MatMul', [x, w.wk]));
    const v = split(b.node('MatMul', [x, w.wv]));
    const scores = b.node('Add', [b.node('Div', [b.node('MatMul', [q, b.node('Transpose', [k], { perm: [0, 1, 3, 2] })]), 'sqrt_d']), maskAdd]);
    const probs = b.node('Softmax', [scores], { axis: -1 }, label);
    const context = b.node('Reshape', [b.node('Transpose', [b.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), 'merged_shape']);
    return b.node('Add', [x, b.node('MatMul', [context, w.wo])]);
  };

  let out: string;
  if (layout === 'unrolled-loop' || layout === 'unrolled-scan') {
    out = x0;
    for (let l = 0; l < layers; l++) {
      const w = Object.fromEntries(names.map((n) => [n, g.floats(`${n}.${l}`, [hidden, hidden], layout === 'unrolled-loop' ? shared[n] : perLayer(n, l))]));
      out = layer(g, out, w, `/encoder/layer.${l}/attention/Softmax`);
    }
  } else if (layout === 'loop' || layout === 'loop-per-token') {
    const w = Object.fromEntries(names.map((n) => [n, g.floats(n, [hidden, hidden], shared[n])]));
    const body = new GraphBuilder('shared layer', 'body/');
    body.input('iteration', ONNX_INT64, []);
    const cond = body.input('cond_in', ONNX_BOOL, []);
    const x = body.input('x_in', ONNX_FLOAT, ['batch', 'sequence', hidden]);
    body.nodeOutputs('Identity', [cond], {}, undefined, ['cond_out']);
    body.nodeOutputs('Identity', [layer(body, x, w, '/encoder/shared_layer/attention/Softmax')], {}, undefined, ['x_out']);
    body.output('cond_out', ONNX_BOOL, []);
    body.output('x_out', ONNX_FLOAT, ['batch', 'sequence', hidden]);
    const trips =
      layout === 'loop' ? g.raw('trips', [], ONNX_INT64, new Uint8Array(BigInt64Array.of(BigInt(layers)).buffer)) : g.node('Squeeze', [seqLen, g.ints('axes0', [1], [0])]);
    const always = g.raw('always', [], ONNX_BOOL, Uint8Array.of(1));
    out = g.node('Loop', [trips, always, x0], { body: { graph: body.subgraph() } }, 'albert::loop');
  } else {
    for (const n of names) g.floats(`${n}.stacked`, [layers, hidden, hidden], stacked[n]);
    const body = new GraphBuilder('scanned layer', 'body/');
    const x = body.input('x_in', ONNX_FLOAT, ['batch', 'sequence', hidden]);
    const w = Object.fromEntries(names.map((n) => [n, body.input(`${n}_l`, ONNX_FLOAT, [hidden, hidden])]));
    body.nodeOutputs('Identity', [layer(body, x, w, '/encoder/scanned_layer/attention/Softmax')], {}, undefined, ['x_out']);
    body.output('x_out', ONNX_FLOAT, ['batch', 'sequence', hidden]);
    out = g.node('Scan', [x0, ...names.map((n) => `${n}.stacked`)], { body: { graph: body.subgraph() }, num_scan_inputs: 4, scan_input_axes: [0, 0, 0, 0] }, 'jax::scan');
  }
  g.nodeOutputs('Identity', [out], {}, undefined, ['last_hidden_state']);
  g.output('last_hidden_state', ONNX_FLOAT, ['batch', 'sequence', hidden]);
  return g.encode();
}
