// A small encoder-decoder (BART/Marian-like) in optimum's layout: encoder_model.onnx (input_ids,
// attention_mask -> last_hidden_state), decoder_model.onnx (input_ids of the target,
// encoder_hidden_states, encoder_attention_mask -> logits) whose layers hold a causal
// self-attention and a cross-attention, and decoder_model_merged.onnx (the same decoder with and
// without a cache in the branches of an If on use_cache_branch); and the same weights as one
// graph (input_ids, attention_mask, decoder_input_ids), the layout of a whole-model export.
// Test fixtures.
import { seededNormals } from '../../analysis/seededRandom';
import { ONNX_BOOL, ONNX_FLOAT, ONNX_INT64 } from '../onnxGraph';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export interface Seq2SeqShape {
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
}

export const TINY_SEQ2SEQ_SHAPE: Seq2SeqShape = { encoderLayers: 2, decoderLayers: 2, heads: 2, headDim: 8, vocab: 60, maxPositions: 32 };

/** Nodes go to `g`; weights (seeded by name, each made once) to `w`: the outer graph of an If's branches, or `g` itself. */
function blocks(g: GraphBuilder, w: GraphBuilder, shape: Seq2SeqShape, seed: string, made: Set<string>) {
  const { heads, headDim, vocab, maxPositions: P } = shape;
  const hidden = heads * headDim;
  const weight = (name: string, dims: number[], scale: number): string =>
    made.has(name) ? name : (made.add(name), w.floats(name, dims, seededNormals(dims.reduce((a, b) => a * b, 1), `${seed} ${name}`).map((v) => v * scale)));
  const int = (name: string, values: number[]): string => (made.has(name) ? name : (made.add(name), w.ints(name, [values.length], values)));
  const square = (name: string): string => weight(name, [hidden, hidden], 1 / Math.sqrt(hidden));
  const scalar = (name: string, v: number): string => (made.has(name) ? name : (made.add(name), w.floats(name, [], Float32Array.of(v))));
  const length = (ids: string): string => g.node('Slice', [g.node('Shape', [ids]), int('one', [1]), int('two', [2])]);
  const split = (t: string): string => g.node('Transpose', [g.node('Reshape', [t, int('heads_shape', [0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
  return {
    hidden,
    /** token and learned position embeddings, positions from `start` (a 1-element tensor) */
    embedded(ids: string, prefix: string, start = int('zero', [0])): string {
      const end = g.node('Add', [start, length(ids)]);
      const positions = g.node('Slice', [weight(`${prefix}.embed_positions`, [P, hidden], 0.5), start, end, int('zero', [0])]);
      return g.node('Add', [g.node('Gather', [weight('shared.embed_tokens', [vocab, hidden], 1), ids]), positions]);
    },
    /** (1 - mask) * -10000 over the keys: [batch, 1, 1, keys] */
    keyMask(mask: string): string {
      return g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [scalar('one_f', 1), g.node('Cast', [mask], { to: ONNX_FLOAT })]), scalar('minus_10000', -10000)]), int('axes12', [1, 2])]);
    },
    /** the causal mask of a whole target: -1e9 above the diagonal */
    causal(ids: string): string {
      const hide = new Float32Array(P * P);
      for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) hide[i * P + j] = -1e9;
      if (!made.has('causal_mask')) w.floats('causal_mask', [P, P], hide);
      made.add('causal_mask');
      const n = length(ids);
      return g.node('Slice', ['causal_mask', int('zeros2', [0, 0]), g.node('Concat', [n, n], { axis: 0 }), int('axes01', [0, 1])]);
    },
    projected(x: string, name: string): string {
      return split(g.node('MatMul', [x, square(name)]));
    },
    /** attention of x's queries over keys and values already split into heads, added to x */
    attention(x: string, k: string, v: string, prefix: string, bias: string | undefined, label: string): string {
      const q = split(g.node('MatMul', [x, square(`${prefix}.q_proj`)]));
      let scores = g.node('Div', [g.node('MatMul', [q, g.node('Transpose', [k], { perm: [0, 1, 3, 2] })]), scalar('sqrt_head_dim', Math.sqrt(headDim))]);
      if (bias) scores = g.node('Add', [scores, bias]);
      const probs = g.node('Softmax', [scores], { axis: -1 }, label);
      const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), int('merged_shape', [0, 0, hidden])]);
      return g.node('Add', [x, g.node('MatMul', [context, square(`${prefix}.out_proj`)])]);
    },
    logits(y: string): string {
      return g.node('MatMul', [y, weight('lm_head', [hidden, vocab], 1 / Math.sqrt(hidden))]);
    },
  };
}

/** The encoder's layers on token ids, or (Whisper-like) on hidden states already made from audio features. */
function encoderInto(g: GraphBuilder, shape: Seq2SeqShape, seed: string, made: Set<string>, ids: string, mask: string | undefined, states?: string): string {
  const b = blocks(g, g, shape, seed, made);
  let x = states ?? b.embedded(ids, 'encoder');
  const bias = mask ? b.keyMask(mask) : undefined;
  for (let l = 0; l < shape.encoderLayers; l++) {
    const p = `encoder.layers.${l}.self_attn`;
    x = b.attention(x, b.projected(x, `${p}.k_proj`), b.projected(x, `${p}.v_proj`), p, bias, `/encoder/layers.${l}/self_attn/Softmax`);
  }
  return g.node('Identity', [x], {}, 'last_hidden_state');
}

/**
 * The decoder's layers on the target ids: without a cache (keys and values of the whole target,
 * cross keys from the encoder's states), or with one (the past decoder keys before this step's,
 * the cached cross keys). Returns the logits and the present keys and values.
 */
function decoderInto(g: GraphBuilder, w: GraphBuilder, shape: Seq2SeqShape, seed: string, made: Set<string>, ids: string, states: string, encoderMask: string, withCache: boolean, label = ''): { logits: string; presents: string[] } {
  const b = blocks(g, w, shape, seed, made);
  const pastLength = withCache ? g.node('Slice', [g.node('Shape', ['past_key_values.0.decoder.key']), g.ints(g.fresh('two'), [1], [2]), g.ints(g.fresh('three'), [1], [3])]) : undefined;
  let y = b.embedded(ids, 'decoder', pastLength);
  const causal = withCache ? undefined : b.causal(ids);
  const crossBias = b.keyMask(encoderMask);
  const presents: string[] = [];
  for (let l = 0; l < shape.decoderLayers; l++) {
    const p = `decoder.layers.${l}`;
    let k = b.projected(y, `${p}.self_attn.k_proj`);
    let v = b.projected(y, `${p}.self_attn.v_proj`);
    if (withCache) {
      k = g.node('Concat', [`past_key_values.${l}.decoder.key`, k], { axis: 2 });
      v = g.node('Concat', [`past_key_values.${l}.decoder.value`, v], { axis: 2 });
    }
    y = b.attention(y, k, v, `${p}.self_attn`, causal, `/decoder/layers.${l}/self_attn/Softmax${label}`);
    const ck = withCache ? `past_key_values.${l}.encoder.key` : b.projected(states, `${p}.encoder_attn.k_proj`);
    const cv = withCache ? `past_key_values.${l}.encoder.value` : b.projected(states, `${p}.encoder_attn.v_proj`);
    y = b.attention(y, ck, cv, `${p}.encoder_attn`, crossBias, `/decoder/layers.${l}/encoder_attn/Softmax${label}`);
    presents.push(k, v, g.node('Identity', [ck]), g.node('Identity', [cv]));
  }
  return { logits: b.logits(y), presents };
}

const PRESENTS = (layers: number): string[] => Array.from({ length: layers }, (_, l) => ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'].map((kv) => `present.${l}.${kv}`)).flat();

export const AUDIO_MELS = 8;

/**
 * A Whisper-like audio encoder: log-mel features [batch, mels, frames] through a strided
 * convolution (two frames a position) and learned positions into the same layers; its decoder is
 * seq2seqModels' (the same hidden size).
 */
export function audioEncoderModel(shape: Seq2SeqShape = TINY_SEQ2SEQ_SHAPE, seed = 'seq2seq'): EncodedModel {
  const hidden = shape.heads * shape.headDim;
  const g = new GraphBuilder('audio encoder');
  const features = g.input('input_features', ONNX_FLOAT, ['batch', AUDIO_MELS, 'frames']);
  const kernel = g.floats('conv.weight', [hidden, AUDIO_MELS, 3], seededNormals(hidden * AUDIO_MELS * 3, `${seed} conv`).map((v) => v / Math.sqrt(3 * AUDIO_MELS)));
  const conv = g.node('Conv', [features, kernel], { strides: [2], pads: [1, 1], kernel_shape: [3] });
  const x = g.node('Transpose', [conv], { perm: [0, 2, 1] });
  const length = g.node('Slice', [g.node('Shape', [x]), g.ints('one_a', [1], [1]), g.ints('two_a', [1], [2])]);
  const positions = g.node('Slice', [g.floats('encoder.embed_positions', [shape.maxPositions, hidden], seededNormals(shape.maxPositions * hidden, `${seed} encoder.embed_positions`).map((v) => v * 0.5)), g.ints('zero_a', [1], [0]), length, g.ints('axis0_a', [1], [0])]);
  encoderInto(g, shape, seed, new Set(), '', undefined, g.node('Add', [x, positions]));
  g.output('last_hidden_state_output', ONNX_FLOAT, ['batch', 'encoder_sequence_length', hidden]);
  return g.encode();
}

/** The encoder and the decoder files of one model (the decoder alone and merged), and the same weights as one graph. */
export function seq2seqModels(shape: Seq2SeqShape = TINY_SEQ2SEQ_SHAPE, seed = 'seq2seq'): { encoder: EncodedModel; decoder: EncodedModel; merged: EncodedModel; single: EncodedModel } {
  const hidden = shape.heads * shape.headDim;
  const encoder = new GraphBuilder('seq2seq encoder');
  encoderInto(encoder, shape, seed, new Set(), encoder.input('input_ids', ONNX_INT64, ['batch', 'encoder_sequence_length']), encoder.input('attention_mask', ONNX_INT64, ['batch', 'encoder_sequence_length']));
  encoder.output('last_hidden_state_output', ONNX_FLOAT, ['batch', 'encoder_sequence_length', hidden]);

  const decoderInputs = (g: GraphBuilder): [string, string, string] => {
    const mask = g.input('encoder_attention_mask', ONNX_INT64, ['batch', 'encoder_sequence_length']);
    const ids = g.input('input_ids', ONNX_INT64, ['batch', 'decoder_sequence_length']);
    return [ids, g.input('encoder_hidden_states', ONNX_FLOAT, ['batch', 'encoder_sequence_length', hidden]), mask];
  };
  const decoder = new GraphBuilder('seq2seq decoder');
  const plain = decoderInto(decoder, decoder, shape, seed, new Set(), ...decoderInputs(decoder), false);
  decoder.nodeOutputs('Identity', [plain.logits], {}, undefined, ['logits']);
  decoder.output('logits', ONNX_FLOAT, ['batch', 'decoder_sequence_length', shape.vocab]);

  const merged = new GraphBuilder('seq2seq merged decoder');
  const [ids, states, mask] = decoderInputs(merged);
  const cacheDims = (name: string): (number | string)[] => ['batch', shape.heads, name.includes('encoder') ? 'encoder_sequence_length_out' : 'past_decoder_sequence_length', shape.headDim];
  for (const name of PRESENTS(shape.decoderLayers)) merged.input(name.replace('present', 'past_key_values'), ONNX_FLOAT, cacheDims(name));
  const outputs = ['logits', ...PRESENTS(shape.decoderLayers)];
  const made = new Set<string>();
  const branch = (withCache: boolean): Uint8Array => {
    const prefix = withCache ? 'cached/' : 'prompt/';
    const b = new GraphBuilder(withCache ? 'with cache' : 'without cache', prefix);
    const r = decoderInto(b, merged, shape, seed, made, ids, states, mask, withCache, withCache ? '_cached' : '');
    [r.logits, ...r.presents].forEach((t, i) => {
      b.nodeOutputs('Identity', [t], {}, undefined, [`${prefix}${outputs[i]}`]);
      b.output(`${prefix}${outputs[i]}`, ONNX_FLOAT, i === 0 ? ['batch', 'decoder_sequence_length', shape.vocab] : cacheDims(outputs[i]));
    });
    return b.subgraph();
  };
  const cond = merged.input('use_cache_branch', ONNX_BOOL, [1]);
  const results = merged.nodeOutputs('If', [cond], { then_branch: { graph: branch(true) }, else_branch: { graph: branch(false) } }, 'optimum::if', outputs.length);
  results.forEach((r, i) => {
    merged.nodeOutputs('Identity', [r], {}, undefined, [outputs[i]]);
    merged.output(outputs[i], ONNX_FLOAT, i === 0 ? ['batch', 'decoder_sequence_length', shape.vocab] : cacheDims(outputs[i]));
  });

  const single = new GraphBuilder('seq2seq');
  const singleMade = new Set<string>();
  const sourceMask = single.input('attention_mask', ONNX_INT64, ['batch', 'encoder_sequence_length']);
  const encoded = encoderInto(single, shape, seed, singleMade, single.input('input_ids', ONNX_INT64, ['batch', 'encoder_sequence_length']), sourceMask);
  const whole = decoderInto(single, single, shape, seed, singleMade, single.input('decoder_input_ids', ONNX_INT64, ['batch', 'decoder_sequence_length']), encoded, sourceMask, false);
  single.nodeOutputs('Identity', [whole.logits], {}, undefined, ['logits']);
  single.output('logits', ONNX_FLOAT, ['batch', 'decoder_sequence_length', shape.vocab]);
  return { encoder: encoder.encode(), decoder: decoder.encode(), merged: merged.encode(), single: single.encode() };
}
