// How ONNX Runtime's tensors hold attention: the probabilities [..., queries, keys] as layers of
// heads, the score MatMul's operands and an attention op's packed inputs as per-head vectors,
// and which attention of an encoder-decoder a layer's shape says it is.
import type { AttentionPart, HeadVectors, LayerAttention } from '../analysis/attentionCapture';
import type { AttentionTap } from './attentionTap';
import { InputError } from './inputError';
import { OrtTensor, tensorFloats } from './ortSession';

/**
 * Probabilities [heads][queries][keys] of the first `queries` query rows and `keys` keys of a
 * softmax output [..., Q, K]: the last axis is the softmax's (keys), the query axis is the last
 * other axis of size >= queries, every remaining axis but the leading batch axis counts as heads.
 */
export function attentionRows(name: string, t: OrtTensor, queries: number, keys: number): LayerAttention {
  const dims = t.dims.map(Number);
  const rank = dims.length;
  if (rank < 2) throw new InputError(`attention '${name}' has shape [${dims.join(', ')}], not [..., queries, keys]`);
  if (dims[rank - 1] < keys || dims[rank - 2] < queries) {
    throw new InputError(`attention '${name}' has shape [${dims.join(', ')}], too small for ${queries} queries and ${keys} keys`);
  }
  const src = tensorFloats(t);
  const K = dims[rank - 1];
  const Q = dims[rank - 2];
  const heads = src.length / (Q * K) / (rank >= 4 ? dims[0] : 1);
  // Without padding to drop, ONNX Runtime's own output buffer is the capture: no copy.
  if (Q === queries && K === keys) return { name, heads, queries, keys, probs: src.subarray(0, heads * queries * keys) };
  const probs = new Float32Array(heads * queries * keys);
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < queries; q++) {
      const from = (h * Q + q) * K;
      probs.set(src.subarray(from, from + keys), (h * queries + q) * keys);
    }
  }
  return { name, heads, queries, keys, probs };
}

/** Per-head vectors [heads][positions][dims] from a MatMul operand [..., positions, d] or, transposed, [..., d, positions]. */
export function headVectors(t: OrtTensor, positions: number, transposed: boolean): HeadVectors {
  const dims = t.dims.map(Number);
  const rank = dims.length;
  const src = tensorFloats(t);
  const P = transposed ? dims[rank - 1] : dims[rank - 2];
  const D = transposed ? dims[rank - 2] : dims[rank - 1];
  const heads = src.length / (P * D) / (rank >= 4 ? dims[0] : 1);
  const data = new Float32Array(heads * positions * D);
  for (let h = 0; h < heads; h++) {
    const base = h * P * D;
    for (let p = 0; p < positions; p++) {
      for (let d = 0; d < D; d++) {
        data[(h * positions + p) * D + d] = transposed ? src[base + d * P + p] : src[base + p * D + d];
      }
    }
  }
  return { heads, positions, dims: D, data };
}

/**
 * Per-head vectors [heads][positions][dims] from an attention op's input [batch, positions,
 * heads * dims] (or packed [query heads | key heads | value heads]); keys shared by a group of
 * query heads are given to each head of the group.
 */
export function packedHeadVectors(t: OrtTensor, positions: number, layout: NonNullable<AttentionTap['packedVectors']>, which: 'query' | 'key'): HeadVectors | undefined {
  const dims = t.dims.map(Number);
  const width = dims[dims.length - 1];
  const { heads, kvHeads, qkvPacked } = layout;
  const groups = qkvPacked ? heads + 2 * kvHeads : which === 'query' ? heads : kvHeads;
  const D = width / groups;
  // keys already split into heads ([batch, heads, positions, d]), or a shape that does not divide: none
  if (dims.length !== 3 || dims[1] < positions || !Number.isInteger(D) || D === 0) return undefined;
  const src = tensorFloats(t);
  const perKv = heads / kvHeads;
  const data = new Float32Array(heads * positions * D);
  for (let h = 0; h < heads; h++) {
    const from = which === 'query' ? h : (qkvPacked ? heads : 0) + Math.floor(h / perKv);
    for (let p = 0; p < positions; p++) data.set(src.subarray(p * width + from * D, p * width + from * D + D), (h * positions + p) * D);
  }
  return { heads, positions, dims: D, data };
}


/** Which attention of an encoder-decoder a layer is, from its probabilities' [..., queries, keys] when source and target lengths differ. */
export function attentionPart(name: string, t: OrtTensor, source: number, target: number, hasEncoder: boolean): AttentionPart {
  const [queries, keys] = t.dims.slice(-2).map(Number);
  if (queries === target && keys === source) return 'cross';
  if (queries === target && keys === target) return 'decoder';
  if (hasEncoder && queries === source && keys === source) return 'encoder';
  throw new InputError(`attention '${name}' has ${queries} queries and ${keys} keys for a source of ${source} tokens and a target of ${target}: it is not the encoder's, the decoder's or cross-attention`);
}
