// The specimen: a small BERT-like model whose heads have hand-set weights realising known
// attention roles, built deterministically. Its roles are the ground truth of the analysis tests.
//
// The hidden state is [one-hot position (128) | token vector (32) | flags: CLS, SEP, PUNCT, ONE].
// Value and output projections are zero, so every layer sees the embeddings unchanged, and each
// head's query/key weights pick the features its role needs; scores differ by about 20 between
// the attended keys and the rest, so the roles hold to within e^-20.
import { seededNormals } from '../../analysis/seededRandom';
import { EncoderShape, EncoderWeights, LayerWeights, encoderGraph } from './encoderModel';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export type HeadRole = 'previous' | 'next' | 'self' | 'broad' | 'cls' | 'sep' | 'local2' | 'sameToken' | 'strided4' | 'punctuation';

/** Roles by layer, then head. */
export const SPECIMEN_ROLES: readonly (readonly HeadRole[])[] = [
  ['previous', 'next', 'self', 'broad'],
  ['cls', 'sep', 'local2', 'sameToken'],
  ['strided4', 'punctuation', 'previous', 'broad'],
];

const POSITIONS = 128;
const TOKEN_DIMS = 32;
const TOK = POSITIONS;
const CLS = TOK + TOKEN_DIMS;
const SEP = CLS + 1;
const PUNCT = CLS + 2;
const ONE = CLS + 3;
const HIDDEN = ONE + 1;
const HEAD_DIM = POSITIONS;
const SCORE_GAP = 20;
const STRIDE = 4;

export const SPECIMEN_SHAPE: EncoderShape = {
  layers: SPECIMEN_ROLES.length,
  heads: SPECIMEN_ROLES[0].length,
  headDim: HEAD_DIM,
  hidden: HIDDEN,
  intermediate: 0,
  vocab: 0, // set from the vocabulary
  maxPositions: POSITIONS,
  layerNorm: false,
};

// Common English words; every letter and digit is also a piece, so any English text tokenizes.
const WORDS = `the of and to in is was that for it as with be on by at this from or an are not have which
his her but they you he she we had has were their been one all there would can more will if what so when
about into out up them some could than other time only its new also two may first then do any like my now
over such our man me even most made after did many before must through back years where much your way well
down should because each just those people how too little state good very make world still own see men work
long get here between both life being under never day same another know while last might us great old year
off come since against go came right used take three quick brown fox jumps lazy dog model attention head
layer token text word language transformer memory sequence query key value`.split(/\s+/);

export function specimenVocabulary(): string[] {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const punct = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
  const chars = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  return [...specials, ...punct, ...chars, ...chars.map((c) => `##${c}`), ...new Set(WORDS)];
}

/** Query/key weights of one head: positional roles map position i to the key positions it attends to. */
function headWeights(role: HeadRole, head: number, wq: Float32Array, wk: Float32Array, heads: number): void {
  const inner = heads * HEAD_DIM;
  const gain = SCORE_GAP * Math.sqrt(HEAD_DIM);
  const q = (row: number, col: number, v: number): void => void (wq[row * inner + head * HEAD_DIM + col] = v);
  const k = (row: number, col: number, v: number): void => void (wk[row * inner + head * HEAD_DIM + col] = v);
  const positional = (targets: (i: number) => number[]): void => {
    for (let p = 0; p < POSITIONS; p++) {
      k(p, p, 1);
      for (const j of targets(p)) if (j >= 0 && j < POSITIONS) q(p, j, gain);
    }
  };
  const sink = (flag: number): void => {
    q(ONE, 0, gain);
    k(flag, 0, 1);
  };
  switch (role) {
    case 'previous':
      return positional((i) => [i === 0 ? 0 : i - 1]);
    case 'next':
      return positional((i) => [i + 1]);
    case 'self':
      return positional((i) => [i]);
    case 'local2':
      return positional((i) => [i - 2, i - 1, i, i + 1, i + 2]);
    case 'strided4':
      return positional((i) => Array.from({ length: POSITIONS }, (_, j) => j).filter((j) => (i - j) % STRIDE === 0));
    case 'cls':
      return sink(CLS);
    case 'sep':
      return sink(SEP);
    case 'punctuation':
      return sink(PUNCT);
    case 'sameToken':
      for (let t = 0; t < TOKEN_DIMS; t++) {
        q(TOK + t, t, gain);
        k(TOK + t, t, 1);
      }
      return;
    case 'broad':
      return;
  }
}

export interface SpecimenFiles extends EncodedModel {
  vocab: string;
  config: string;
  roles: string;
}

/** The specimen's graph, ready to encode. */
export function specimenGraph(): GraphBuilder {
  const vocab = specimenVocabulary();
  const shape = { ...SPECIMEN_SHAPE, vocab: vocab.length };
  const inner = shape.heads * HEAD_DIM;
  const tokenEmbedding = new Float32Array(vocab.length * HIDDEN);
  const directions = seededNormals(vocab.length * TOKEN_DIMS, 'specimen tokens');
  vocab.forEach((piece, id) => {
    const row = id * HIDDEN;
    let norm = 0;
    for (let t = 0; t < TOKEN_DIMS; t++) norm += directions[id * TOKEN_DIMS + t] ** 2;
    for (let t = 0; t < TOKEN_DIMS; t++) tokenEmbedding[row + TOK + t] = directions[id * TOKEN_DIMS + t] / Math.sqrt(norm);
    if (piece === '[CLS]') tokenEmbedding[row + CLS] = 1;
    if (piece === '[SEP]') tokenEmbedding[row + SEP] = 1;
    if (/^\p{P}$/u.test(piece)) tokenEmbedding[row + PUNCT] = 1;
    tokenEmbedding[row + ONE] = 1;
  });
  const positionEmbedding = new Float32Array(POSITIONS * HIDDEN);
  for (let p = 0; p < POSITIONS; p++) positionEmbedding[p * HIDDEN + p] = 1;
  const layer = (l: number): LayerWeights => {
    const wq = new Float32Array(HIDDEN * inner);
    const wk = new Float32Array(HIDDEN * inner);
    SPECIMEN_ROLES[l].forEach((role, h) => headWeights(role, h, wq, wk, shape.heads));
    return { wq, wk, wv: seededNormals(HIDDEN * inner, `specimen values ${l}`).map((v) => v * 0.02), wo: new Float32Array(inner * HIDDEN) };
  };
  const weights: EncoderWeights = { tokenEmbedding, positionEmbedding, layer };
  return encoderGraph(shape, weights, 'attention-lens specimen');
}

export function specimenModel(): SpecimenFiles {
  const vocab = specimenVocabulary();
  const encoded = specimenGraph().encode();
  const config = {
    model_type: 'bert',
    architectures: ['AttentionLensSpecimen'],
    num_hidden_layers: SPECIMEN_SHAPE.layers,
    num_attention_heads: SPECIMEN_SHAPE.heads,
    hidden_size: HIDDEN,
    head_dim: HEAD_DIM,
    intermediate_size: 0,
    max_position_embeddings: POSITIONS,
    vocab_size: vocab.length,
    do_lower_case: true,
  };
  return {
    ...encoded,
    vocab: vocab.join('\n') + '\n',
    config: JSON.stringify(config, null, 2) + '\n',
    roles: JSON.stringify({ roles: SPECIMEN_ROLES, stride: STRIDE, window: 2 }, null, 2) + '\n',
  };
}
