// A small decoder with a static cache, as exports for fixed-memory runtimes write it: fixed-length
// key_cache.N / value_cache.N inputs, the new keys and values written at write_indices by
// TensorScatter, and ONNX's Attention op (opset 24) told by nonpad_kv_seqlen how many cache rows
// are real. Its twin is the same decoder without a cache. Test fixtures, generated when needed.
import { seededNormals } from '../../analysis/seededRandom';
import { ONNX_FLOAT, ONNX_INT64 } from '../onnxGraph';
import type { DecoderShape } from './mergedDecoder';
import { EncodedModel, GraphBuilder } from './onnxBuilder';

export function staticCacheDecoder(shape: DecoderShape, cacheLength: number | undefined, seed = 'static cache'): EncodedModel {
  const { heads, headDim } = shape;
  const hidden = heads * headDim;
  const g = new GraphBuilder(cacheLength ? 'static cache decoder' : 'decoder');
  const normal = (count: number, name: string, scale: number): Float32Array => seededNormals(count, `${seed} ${name}`).map((v) => v * scale);
  const ids = g.input('input_ids', ONNX_INT64, [1, 'sequence']);
  if (cacheLength) {
    g.input('write_indices', ONNX_INT64, [1]);
    g.input('nonpad_kv_seqlen', ONNX_INT64, [1]);
  }
  let x = g.node('Gather', [g.floats('embed_tokens', [shape.vocab, hidden], normal(shape.vocab * hidden, 'tokens', 1)), ids]);
  const headsShape = g.ints('heads_shape', [4], [0, 0, heads, headDim]);
  const merged = g.ints('merged_shape', [3], [0, 0, hidden]);
  for (let l = 0; l < shape.layers; l++) {
    const w = (name: string): string => g.floats(`${name}.${l}`, [hidden, hidden], normal(hidden * hidden, `${name}${l}`, 1 / Math.sqrt(hidden)));
    const split = (t: string): string => g.node('Transpose', [g.node('Reshape', [g.node('MatMul', [x, t]), headsShape])], { perm: [0, 2, 1, 3] });
    const q = split(w('wq'));
    let k = split(w('wk'));
    let v = split(w('wv'));
    if (cacheLength) {
      const cache = (kind: string, update: string): string => {
        const name = g.input(`${kind}_cache.${l}`, ONNX_FLOAT, [1, heads, cacheLength, headDim]);
        const present = g.nodeOutputs('TensorScatter', [name, update, 'write_indices'], { axis: 2 }, `/model/layers.${l}/${kind}_scatter`, [`present_${kind}_cache.${l}`])[0];
        g.output(present, ONNX_FLOAT, [1, heads, cacheLength, headDim]);
        return present;
      };
      k = cache('key', k);
      v = cache('value', v);
    }
    const inputs = cacheLength ? [q, k, v, '', '', '', 'nonpad_kv_seqlen'] : [q, k, v];
    const context = g.node('Attention', inputs, { is_causal: 1 }, `/model/layers.${l}/self_attn/Attention`);
    x = g.node('Add', [x, g.node('MatMul', [g.node('Reshape', [g.node('Transpose', [context], { perm: [0, 2, 1, 3] }), merged]), w('wo')])]);
  }
  g.nodeOutputs('Identity', [x], {}, undefined, ['logits']);
  g.output('logits', ONNX_FLOAT, [1, 'sequence', hidden]);
  return g.encode({ opset: 24 });
}
