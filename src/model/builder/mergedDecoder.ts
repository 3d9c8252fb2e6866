// A small decoder in optimum's merged layout (decoder_model_merged.onnx): one If on
// use_cache_branch whose else branch runs the prompt without a cache and whose then branch runs
// with past keys and values, both reading the weights of the main graph. Its unmerged twin is
// the no-cache decoder alone. Test fixtures, generated when needed.
import { seededNormals } from '../../analysis/seededRandom';
import { ONNX_BOOL, ONNX_FLOAT, ONNX_INT64 } from '../onnxGraph';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export interface DecoderShape {
  layers: number;
  heads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
}

export const TINY_DECODER_SHAPE: DecoderShape = { layers: 2, heads: 2, headDim: 8, vocab: 50, maxPositions: 32 };

/** The decoder's layers into `g`, reading the hidden states `x` and, with a cache, the past inputs. */
function decoderLayers(g: GraphBuilder, weights: GraphBuilder, shape: DecoderShape, x: string, withCache: boolean, seqLen: string, outName: (o: string) => string): void {
  const { heads, headDim } = shape;
  const hidden = heads * headDim;
  const headsShape = weights.ints(`heads_shape_${withCache}`, [4], [0, 0, heads, headDim]);
  const merged = weights.ints(`merged_shape_${withCache}`, [3], [0, 0, hidden]);
  for (let l = 0; l < shape.layers; l++) {
    const w = (name: string): string => `${name}.${l}`;
    const split = (t: string, perm: number[]): string => g.node('Transpose', [g.node('Reshape', [t, headsShape])], { perm });
    const q = split(g.node('MatMul', [x, w('wq')]), [0, 2, 1, 3]);
    let k = split(g.node('MatMul', [x, w('wk')]), [0, 2, 1, 3]);
    let v = split(g.node('MatMul', [x, w('wv')]), [0, 2, 1, 3]);
    if (withCache) {
      k = g.node('Concat', [`past_key_values.${l}.key`, k], { axis: 2 });
      v = g.node('Concat', [`past_key_values.${l}.value`, v], { axis: 2 });
    }
    let scores = g.node('Div', [g.node('MatMul', [q, g.node('Transpose', [k], { perm: [0, 1, 3, 2] })], {}, `/model/layers.${l}/self_attn/MatMul${withCache ? '_cached' : ''}`), weights.scalar(Math.sqrt(headDim))]);
    // the prompt's queries see the keys up to their own; a cached step's one query sees them all
    if (!withCache) scores = g.node('Add', [scores, g.node('Slice', ['causal_mask', 'zeros2', g.node('Concat', [seqLen, seqLen], { axis: 0 }), 'axes01'])]);
    const probs = g.node('Softmax', [scores], { axis: -1 }, `/model/layers.${l}/self_attn/Softmax${withCache ? '_cached' : ''}`);
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), merged]);
    x = g.node('Add', [x, g.node('MatMul', [context, w('wo')])]);
    g.nodeOutputs('Identity', [k], {}, undefined, [outName(`present.${l}.key`)]);
    g.nodeOutputs('Identity', [v], {}, undefined, [outName(`present.${l}.value`)]);
  }
  g.nodeOutputs('Identity', [x], {}, undefined, [outName('logits')]);
}

/** The merged decoder, or (merged false) its no-cache decoder alone with the same weights. */
export function mergedDecoder(shape: DecoderShape, merged: boolean, seed = 'merged decoder', branchInput = 'use_cache_branch'): EncodedModel {
  const { heads, headDim } = shape;
  const hidden = heads * headDim;
  const g = new GraphBuilder(merged ? 'merged decoder' : 'decoder');
  const normal = (count: number, name: string, scale: number): Float32Array => seededNormals(count, `${seed} ${name}`).map((v) => v * scale);
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'sequence']);
  g.input('attention_mask', ONNX_INT64, ['batch', 'total_sequence']);
  for (let l = 0; l < shape.layers; l++) {
    for (const name of ['wq', 'wk', 'wv', 'wo']) g.floats(`${name}.${l}`, [hidden, hidden], normal(hidden * hidden, `${name}${l}`, 1 / Math.sqrt(hidden)));
    if (merged) for (const kv of ['key', 'value']) g.input(`past_key_values.${l}.${kv}`, ONNX_FLOAT, ['batch', heads, 'past_sequence', headDim]);
  }
  const P = shape.maxPositions;
  const hide = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) hide[i * P + j] = -1e9;
  g.floats('causal_mask', [P, P], hide);
  g.ints('zeros2', [2], [0, 0]);
  g.ints('axes01', [2], [0, 1]);
  const x = g.node('Gather', [g.floats('embed_tokens', [shape.vocab, hidden], normal(shape.vocab * hidden, 'tokens', 1)), ids], {}, 'embed');
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1], [1]), g.ints('two', [1], [2])], {}, 'sequence_length');
  const outputs = ['logits', ...Array.from({ length: shape.layers }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat()];
  const dims = (name: string): (number | string)[] => (name === 'logits' ? ['batch', 'sequence', hidden] : ['batch', heads, 'total_sequence', headDim]);
  if (!merged) {
    decoderLayers(g, g, shape, x, false, seqLen, (o) => o);
    for (const o of outputs) g.output(o, ONNX_FLOAT, dims(o));
    return g.encode();
  }
  const branch = (withCache: boolean): Uint8Array => {
    const prefix = withCache ? 'cached/' : 'prompt/';
    const b = new GraphBuilder(withCache ? 'with cache' : 'without cache', prefix);
    decoderLayers(b, g, shape, x, withCache, seqLen, (o) => `${prefix}${o}`);
    for (const o of outputs) b.output(`${prefix}${o}`, ONNX_FLOAT, dims(o));
    return b.subgraph();
  };
  const cond = g.input(branchInput, ONNX_BOOL, [1]);
  const results = g.nodeOutputs('If', [cond], { then_branch: { graph: branch(true) }, else_branch: { graph: branch(false) } }, 'optimum::if', outputs.length);
  results.forEach((r, i) => {
    g.nodeOutputs('Identity', [r], {}, undefined, [outputs[i]]);
    g.output(outputs[i], ONNX_FLOAT, dims(outputs[i]));
  });
  return g.encode();
}
