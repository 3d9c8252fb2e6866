// A one-layer decoder with a planted induction head beside heads that do other jobs: the ground
// truth of the induction score. Test fixture, generated when needed.
//
// The hidden state is [one-hot id (VOCAB) | one-hot id of the token before (VOCAB) | one-hot
// position (POSITIONS)]; the token before comes from the embedding shifted one position down
// (Pad, then Slice), which a trained model builds with a previous-token head in an earlier layer.
// Each head's query/key weights pick the features its role needs, with a score gap of 20 as the
// specimen's, under ONNX's causal Attention op.
import { ONNX_FLOAT, ONNX_INT64 } from '../onnxGraph';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export type InductionDecoderRole = 'induction' | 'previous' | 'duplicate' | 'uniform';

/** The heads of its one layer, in order. */
export const INDUCTION_DECODER_ROLES: readonly InductionDecoderRole[] = ['induction', 'previous', 'duplicate', 'uniform'];

const INDUCTION_DECODER_VOCAB = 64;
const INDUCTION_DECODER_POSITIONS = 128;

const VOCAB = INDUCTION_DECODER_VOCAB;
const POSITIONS = INDUCTION_DECODER_POSITIONS;
const ID = 0;
const PREV_ID = VOCAB;
const POS = 2 * VOCAB;
const HIDDEN = POS + POSITIONS;
// a head's vector: token features in the first VOCAB entries, position features after them
const HEAD_DIM = VOCAB + POSITIONS;
const SCORE_GAP = 20;

/** Query/key weights of one head; the Attention op divides the scores by sqrt(HEAD_DIM). */
function headWeights(role: InductionDecoderRole, head: number, wq: Float32Array, wk: Float32Array): void {
  const inner = INDUCTION_DECODER_ROLES.length * HEAD_DIM;
  const gain = SCORE_GAP * Math.sqrt(HEAD_DIM);
  const q = (row: number, col: number, v: number): void => void (wq[row * inner + head * HEAD_DIM + col] = v);
  const k = (row: number, col: number, v: number): void => void (wk[row * inner + head * HEAD_DIM + col] = v);
  switch (role) {
    // query: the token itself; key: the token before the key. So the query attends to the
    // position after each earlier occurrence of its token.
    case 'induction':
      for (let t = 0; t < VOCAB; t++) {
        q(ID + t, t, gain);
        k(PREV_ID + t, t, 1);
      }
      return;
    case 'previous':
      for (let p = 0; p < POSITIONS; p++) {
        k(POS + p, VOCAB + p, 1);
        q(POS + p, VOCAB + Math.max(0, p - 1), gain);
      }
      return;
    // the same token at another position: its own position's score is taken off again
    case 'duplicate':
      for (let t = 0; t < VOCAB; t++) {
        q(ID + t, t, gain);
        k(ID + t, t, 1);
      }
      for (let p = 0; p < POSITIONS; p++) {
        q(POS + p, VOCAB + p, -gain);
        k(POS + p, VOCAB + p, 1);
      }
      return;
    case 'uniform':
      return;
  }
}

const identity = (size: number): Float32Array => {
  const m = new Float32Array(size * size);
  for (let i = 0; i < size; i++) m[i * size + i] = 1;
  return m;
};

export function inductionDecoder(): EncodedModel {
  const heads = INDUCTION_DECODER_ROLES.length;
  const inner = heads * HEAD_DIM;
  const g = new GraphBuilder('induction decoder');
  const ids = g.input('input_ids', ONNX_INT64, [1, 'sequence']);
  const tokens = g.node('Gather', [g.floats('embed_tokens', [VOCAB, VOCAB], identity(VOCAB)), ids]);
  // the token before each position; none before the first
  const before = g.node('Slice', [g.node('Pad', [tokens, g.ints('pad_one_before', [6], [0, 1, 0, 0, 0, 0])]), g.ints('zero', [1], [0]), g.ints('minus_one', [1], [-1]), g.ints('axis1', [1], [1])]);
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.ints('one', [1], [1]), g.ints('two', [1], [2])]);
  const positions = g.node('Unsqueeze', [g.node('Slice', [g.floats('position_embeddings', [POSITIONS, POSITIONS], identity(POSITIONS)), 'zero', seqLen, g.ints('axis0', [1], [0])]), 'axis0']);
  const x = g.node('Concat', [tokens, before, positions], { axis: 2 });
  const wq = new Float32Array(HIDDEN * inner);
  const wk = new Float32Array(HIDDEN * inner);
  INDUCTION_DECODER_ROLES.forEach((role, h) => headWeights(role, h, wq, wk));
  const headsShape = g.ints('heads_shape', [4], [0, 0, heads, HEAD_DIM]);
  const split = (w: string): string => g.node('Transpose', [g.node('Reshape', [g.node('MatMul', [x, w]), headsShape])], { perm: [0, 2, 1, 3] });
  const q = split(g.floats('wq', [HIDDEN, inner], wq));
  const k = split(g.floats('wk', [HIDDEN, inner], wk));
  // zero values: only the attention is looked at
  const v = split(g.floats('wv', [HIDDEN, inner], new Float32Array(HIDDEN * inner)));
  const context = g.node('Attention', [q, k, v], { is_causal: 1 }, '/model/layers.0/self_attn/Attention');
  g.nodeOutputs('Reshape', [g.node('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints('merged_shape', [3], [0, 0, inner])], {}, undefined, ['last_hidden_state']);
  g.output('last_hidden_state', ONNX_FLOAT, [1, 'sequence', inner]);
  return g.encode({ opset: 23 });
}
