// A BERT-style encoder as an ONNX graph, laid out the way PyTorch exports BERT (Q K^T via a
// transposed key, scaling, additive mask, Softmax), with weights supplied by the caller.
import { ONNX_FLOAT, ONNX_INT64 } from '../onnxGraph';
import { GraphBuilder } from './onnxBuilder';

export interface EncoderShape {
  layers: number;
  heads: number;
  headDim: number;
  hidden: number;
  /** feed-forward width; 0 leaves the feed-forward block out */
  intermediate: number;
  vocab: number;
  maxPositions: number;
  layerNorm: boolean;
}

export interface LayerWeights {
  wq: Float32Array; // [hidden, heads*headDim]
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array; // [heads*headDim, hidden]
  w1?: Float32Array; // [hidden, intermediate]
  w2?: Float32Array; // [intermediate, hidden]
}

export interface EncoderWeights {
  tokenEmbedding: Float32Array; // [vocab, hidden]
  positionEmbedding: Float32Array; // [maxPositions, hidden]
  layer(index: number): LayerWeights;
}

export function encoderGraph(shape: EncoderShape, weights: EncoderWeights, name = 'encoder'): GraphBuilder {
  const { layers, heads, headDim, hidden, intermediate } = shape;
  const inner = heads * headDim;
  const g = new GraphBuilder(name);
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', ONNX_INT64, ['batch', 'sequence']);
  const zeros = (n: number): Float32Array => new Float32Array(n);
  const layerNorm = (x: string, prefix: string): string =>
    shape.layerNorm
      ? g.node('LayerNormalization', [x, g.floats(`${prefix}.weight`, [hidden], new Float32Array(hidden).fill(1)), g.floats(`${prefix}.bias`, [hidden], zeros(hidden))], { axis: -1, epsilon: { float: 1e-12 } })
      : x;
  const linear = (x: string, w: Float32Array, inDim: number, outDim: number, prefix: string): string =>
    g.node('Add', [g.node('MatMul', [x, g.floats(`${prefix}.weight`, [inDim, outDim], w)]), g.floats(`${prefix}.bias`, [outDim], zeros(outDim))]);

  const tokens = g.node('Gather', [g.floats('embeddings.word_embeddings.weight', [shape.vocab, hidden], weights.tokenEmbedding), ids], {}, '/embeddings/word_embeddings/Gather');
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1], [1]), g.ints('two', [1], [2])]);
  const positions = g.node('Slice', [g.floats('embeddings.position_embeddings.weight', [shape.maxPositions, hidden], weights.positionEmbedding), g.ints('zero', [1], [0]), seqLen, g.ints('axis0', [1], [0])]);
  let x = layerNorm(g.node('Add', [tokens, positions]), 'embeddings.LayerNorm');

  // (1 - mask) * -10000, broadcast over heads and queries: [batch, 1, 1, keys]
  const maskFloat = g.node('Cast', [mask], { to: ONNX_FLOAT });
  const maskAdd = g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [g.scalar(1), maskFloat]), g.scalar(-10000)]), g.ints('axes12', [2], [1, 2])]);
  const headsShape = g.ints('heads_shape', [4], [0, 0, heads, headDim]);
  const mergedShape = g.ints('merged_shape', [3], [0, 0, inner]);
  const scale = g.scalar(Math.sqrt(headDim));

  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}`;
    const at = `/encoder/layer.${l}/attention/self`;
    const w = weights.layer(l);
    const split = (t: string, perm: number[], label: string): string => g.node('Transpose', [g.node('Reshape', [t, headsShape])], { perm }, `${at}/${label}`);
    const q = split(linear(x, w.wq, hidden, inner, `${p}.attention.self.query`), [0, 2, 1, 3], 'Transpose');
    const kT = split(linear(x, w.wk, hidden, inner, `${p}.attention.self.key`), [0, 2, 3, 1], 'Transpose_1');
    const v = split(linear(x, w.wv, hidden, inner, `${p}.attention.self.value`), [0, 2, 1, 3], 'Transpose_2');
    const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, kT], {}, `${at}/MatMul`), scale]), maskAdd]);
    const probs = g.node('Softmax', [scores], { axis: -1 }, `${at}/Softmax`);
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), mergedShape]);
    x = layerNorm(g.node('Add', [linear(context, w.wo, inner, hidden, `${p}.attention.output.dense`), x]), `${p}.attention.output.LayerNorm`);
    if (intermediate > 0 && w.w1 && w.w2) {
      const h1 = linear(x, w.w1, hidden, intermediate, `${p}.intermediate.dense`);
      // GELU as exported: 0.5 x (1 + erf(x / sqrt 2))
      const gelu = g.node('Mul', [g.node('Mul', [h1, g.node('Add', [g.node('Erf', [g.node('Div', [h1, g.scalar(Math.SQRT2)])]), g.scalar(1)])]), g.scalar(0.5)]);
      x = layerNorm(g.node('Add', [linear(gelu, w.w2, intermediate, hidden, `${p}.output.dense`), x]), `${p}.output.LayerNorm`);
    }
  }
  g.node('Identity', [x], {}, 'last_hidden_state');
  g.output('last_hidden_state_output', ONNX_FLOAT, ['batch', 'sequence', hidden]);
  return g;
}
