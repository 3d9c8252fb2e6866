// Random-weight BERT encoders of real sizes, for benchmarks: generated when needed, never committed.
import { seededNormals } from '../../analysis/seededRandom';
import { EncoderShape, encoderGraph } from './encoderModel';
import { EncodedModel } from './onnxBuilder';

export const BERT_BASE_SHAPE: EncoderShape = {
  layers: 12,
  heads: 12,
  headDim: 64,
  hidden: 768,
  intermediate: 3072,
  vocab: 30522,
  maxPositions: 512,
  layerNorm: true,
};

export function randomBert(shape: EncoderShape, seed = 'random bert'): EncodedModel {
  const { hidden, heads, headDim, intermediate } = shape;
  const inner = heads * headDim;
  const normal = (count: number, name: string): Float32Array => seededNormals(count, `${seed} ${name}`).map((v) => v * 0.02);
  return encoderGraph(
    shape,
    {
      tokenEmbedding: normal(shape.vocab * hidden, 'tokens'),
      positionEmbedding: normal(shape.maxPositions * hidden, 'positions'),
      layer: (l) => ({
        wq: normal(hidden * inner, `q${l}`),
        wk: normal(hidden * inner, `k${l}`),
        wv: normal(hidden * inner, `v${l}`),
        wo: normal(inner * hidden, `o${l}`),
        w1: normal(hidden * intermediate, `w1${l}`),
        w2: normal(intermediate * hidden, `w2${l}`),
      }),
    },
    'random bert',
  ).encode();
}
