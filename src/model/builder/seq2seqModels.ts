// A small encoder-decoder (BART/Marian-like) in optimum's layout: encoder_model.onnx (input_ids,
// attention_mask -> last_hidden_state) and decoder_model.onnx (input_ids of the target,
// encoder_hidden_states, encoder_attention_mask -> logits), whose layers hold a causal
// self-attention and a cross-attention; and the same weights as one graph (input_ids,
// attention_mask, decoder_input_ids), the layout of a whole-model export. Test fixtures.
import { seededNormals } from '../../analysis/seededRandom';
import { ONNX_FLOAT, ONNX_INT64 } from '../onnxGraph';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export interface Seq2SeqShape {
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
  decoderStartId: number;
}

export const TINY_SEQ2SEQ_SHAPE: Seq2SeqShape = { encoderLayers: 2, decoderLayers: 2, heads: 2, headDim: 8, vocab: 60, maxPositions: 32, decoderStartId: 2 };

type Part = 'encoder' | 'decoder' | 'single';

function seq2seqGraph(shape: Seq2SeqShape, part: Part, seed: string): GraphBuilder {
  const { heads, headDim, vocab, maxPositions: P } = shape;
  const hidden = heads * headDim;
  const g = new GraphBuilder(`seq2seq ${part}`);
  const made = new Set<string>();
  // the encoder and the decoder share their token embedding
  const weight = (name: string, dims: number[], scale: number): string =>
    made.has(name) ? name : (made.add(name), g.floats(name, dims, seededNormals(dims.reduce((a, b) => a * b, 1), `${seed} ${name}`).map((v) => v * scale)));
  const square = (name: string): string => weight(name, [hidden, hidden], 1 / Math.sqrt(hidden));
  const headsShape = g.ints('heads_shape', [4], [0, 0, heads, headDim]);
  const mergedShape = g.ints('merged_shape', [3], [0, 0, hidden]);
  const scale = g.scalar(Math.sqrt(headDim));
  const one = g.ints('one', [1], [1]);
  const two = g.ints('two', [1], [2]);
  const embedded = (ids: string, prefix: string): string => {
    const seqLen = g.node('Slice', [g.node('Shape', [ids]), one, two]);
    const positions = g.node('Slice', [weight(`${prefix}.embed_positions`, [P, hidden], 0.5), g.ints(`${prefix}.zero`, [1], [0]), seqLen, g.ints(`${prefix}.axis0`, [1], [0])]);
    return g.node('Add', [g.node('Gather', [weight('shared.embed_tokens', [vocab, hidden], 1), ids]), positions]);
  };
  const split = (t: string): string => g.node('Transpose', [g.node('Reshape', [t, headsShape])], { perm: [0, 2, 1, 3] });
  // (1 - mask) * -10000 over the keys: [batch, 1, 1, keys]
  const keyMask = (mask: string): string =>
    g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [g.scalar(1), g.node('Cast', [mask], { to: ONNX_FLOAT })]), g.scalar(-10000)]), g.ints(g.fresh('axes'), [2], [1, 2])]);
  const attention = (x: string, from: string, prefix: string, bias: string, label: string): string => {
    const q = split(g.node('MatMul', [x, square(`${prefix}.q_proj`)]));
    const k = split(g.node('MatMul', [from, square(`${prefix}.k_proj`)]));
    const v = split(g.node('MatMul', [from, square(`${prefix}.v_proj`)]));
    const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, g.node('Transpose', [k], { perm: [0, 1, 3, 2] })]), scale]), bias]);
    const probs = g.node('Softmax', [scores], { axis: -1 }, label);
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), mergedShape]);
    return g.node('Add', [x, g.node('MatMul', [context, square(`${prefix}.out_proj`)])]);
  };

  let encoderStates: string;
  let encoderMask: string;
  if (part === 'decoder') {
    encoderMask = g.input('encoder_attention_mask', ONNX_INT64, ['batch', 'encoder_sequence_length']);
    g.input('input_ids', ONNX_INT64, ['batch', 'decoder_sequence_length']);
    encoderStates = g.input('encoder_hidden_states', ONNX_FLOAT, ['batch', 'encoder_sequence_length', hidden]);
  } else {
    const ids = g.input('input_ids', ONNX_INT64, ['batch', 'encoder_sequence_length']);
    encoderMask = g.input('attention_mask', ONNX_INT64, ['batch', 'encoder_sequence_length']);
    let x = embedded(ids, 'encoder');
    const bias = keyMask(encoderMask);
    for (let l = 0; l < shape.encoderLayers; l++) x = attention(x, x, `encoder.layers.${l}.self_attn`, bias, `/encoder/layers.${l}/self_attn/Softmax`);
    encoderStates = g.node('Identity', [x], {}, 'last_hidden_state');
    if (part === 'encoder') {
      g.output('last_hidden_state_output', ONNX_FLOAT, ['batch', 'encoder_sequence_length', hidden]);
      return g;
    }
    g.input('decoder_input_ids', ONNX_INT64, ['batch', 'decoder_sequence_length']);
  }
  const targetIds = part === 'decoder' ? 'input_ids' : 'decoder_input_ids';
  const hide = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) hide[i * P + j] = -1e9;
  const targetLength = g.node('Slice', [g.node('Shape', [targetIds]), one, two]);
  const causal = g.node('Slice', [g.floats('causal_mask', [P, P], hide), g.ints('zeros2', [2], [0, 0]), g.node('Concat', [targetLength, targetLength], { axis: 0 }), g.ints('axes01', [2], [0, 1])]);
  const crossBias = keyMask(encoderMask);
  let y = embedded(targetIds, 'decoder');
  for (let l = 0; l < shape.decoderLayers; l++) {
    y = attention(y, y, `decoder.layers.${l}.self_attn`, causal, `/decoder/layers.${l}/self_attn/Softmax`);
    y = attention(y, encoderStates, `decoder.layers.${l}.encoder_attn`, crossBias, `/decoder/layers.${l}/encoder_attn/Softmax`);
  }
  g.node('MatMul', [y, weight('lm_head', [hidden, vocab], 1 / Math.sqrt(hidden))], {}, 'logits');
  g.output('logits_output', ONNX_FLOAT, ['batch', 'decoder_sequence_length', vocab]);
  return g;
}

/** The encoder and the decoder files of one model, and the same weights as one graph. */
export function seq2seqModels(shape: Seq2SeqShape = TINY_SEQ2SEQ_SHAPE, seed = 'seq2seq'): { encoder: EncodedModel; decoder: EncodedModel; single: EncodedModel } {
  return { encoder: seq2seqGraph(shape, 'encoder', seed).encode(), decoder: seq2seqGraph(shape, 'decoder', seed).encode(), single: seq2seqGraph(shape, 'single', seed).encode() };
}
