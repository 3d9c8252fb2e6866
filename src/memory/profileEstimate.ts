// The estimator's inference-mode prediction for each point of a measured memory profile, from
// the config beside the model (config.json or genai_config.json), or else the graph's own sizes.
import type { PointEstimate } from '../analysis/memoryProfile';
import { DTYPE_BYTES, Dtype, denseEstimate } from './attentionMemory';
import { configSites } from './configSites';
import { ModelDims, attentionShape } from './modelDims';

export interface ProfileEstimator {
  estimate: (n: number, batch: number, queries: number) => PointEstimate | undefined;
  /** where the dimensions came from, or why there is no estimate */
  source: string;
}

/** What the estimate needs to know of the graph: its cache, its fused op, its sizes. */
export interface ProfiledGraph {
  /** the model reads a cache: a decoder, whatever its config says */
  hasPast: boolean;
  fusedOp: string | null;
  dims: { layers: number; heads: number; kvHeads: number; headDim: number } | null;
}

/**
 * The bytes of one probability as ONNX Runtime's CPU kernels hold it: a softmax's output in the
 * model's type; a fused op's kernel computes its scores in fp32 whatever the model's type (its
 * fp16 inputs are converted), and GroupQueryAttention on fp32 runs a flash kernel that holds none
 * (onnxruntime contrib_ops/cpu/bert, 1.30; the profile of each confirms it).
 */
function probabilityBytes(dtype: Dtype, fusedOp: string | null): number {
  if (fusedOp === null) return DTYPE_BYTES[dtype];
  return fusedOp === 'GroupQueryAttention' && dtype === 'fp32' ? 0 : 4;
}

/**
 * The estimate at n positions: a run that computes fewer query rows than n (a decoder's step)
 * holds queries / n of the probabilities.
 */
export function profileEstimator(configText: string | undefined, configName: string, dtype: Dtype, graph: ProfiledGraph): ProfileEstimator {
  const none = (why: string): ProfileEstimator => ({ estimate: () => undefined, source: why });
  let dims: ModelDims;
  let source: string;
  if (configText !== undefined) {
    const site = configSites(configText, 'json').sites.find((s) => s.missing.length === 0);
    if (!site) return none(`${configName} holds no complete model configuration: no estimate`);
    dims = { ...site.dims, causal: site.dims.causal || graph.hasPast };
    source = `${configName} (${site.label})`;
  } else if (graph.dims) {
    const g = graph.dims;
    dims = { layers: g.layers, heads: g.heads, kvHeads: g.kvHeads, headDim: g.headDim, hidden: g.heads * g.headDim, causal: graph.hasPast };
    source = `the graph (${g.layers} attention layers, ${g.heads} heads${g.kvHeads === g.heads ? '' : ` sharing ${g.kvHeads} key/value heads`}, head size ${g.headDim})`;
  } else {
    return none('no config.json or genai_config.json beside the model, and the graph states no head counts: no estimate');
  }
  const perProbability = probabilityBytes(dtype, graph.fusedOp);
  return {
    source,
    estimate: (n, batch, queries) => {
      const shaped = attentionShape(dims, { seq: n, batch, dtype, mode: 'inference' });
      if ('missing' in shaped) return undefined;
      const d = denseEstimate(shaped.shape);
      // the estimator's peak counts the weights only where the config gives their sizes
      return {
        attentionBytes: (d.attentionFloatsAllLayers * perProbability * queries) / n,
        kvCacheBytes: d.kvCacheBytes,
        ...(d.weightBytes === undefined ? {} : { peakBytes: d.peakBytes }),
      };
    },
  };
}
