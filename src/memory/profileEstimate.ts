// The estimator's inference-mode prediction for each point of a measured memory profile,
// from the config beside the model (config.json or genai_config.json).
import type { PointEstimate } from '../analysis/memoryProfile';
import { Dtype, denseEstimate } from './attentionMemory';
import { configSites } from './configSites';
import { attentionShape } from './modelDims';

export interface ProfileEstimator {
  estimate: (n: number, batch: number, queries: number) => PointEstimate | undefined;
  /** where the dimensions came from, or why there is no estimate */
  source: string;
}

/**
 * The estimate at n positions for a config's text: a run that computes fewer query rows than n
 * (a decoder's step) holds queries / n of the probabilities. `hasPast`: the model reads a cache,
 * so it is a decoder whatever the config says.
 */
export function profileEstimator(configText: string | undefined, configName: string, dtype: Dtype, hasPast: boolean): ProfileEstimator {
  const none = (why: string): ProfileEstimator => ({ estimate: () => undefined, source: why });
  if (configText === undefined) return none('no config.json or genai_config.json beside the model: no estimate');
  const site = configSites(configText, 'json').sites.find((s) => s.missing.length === 0);
  if (!site) return none(`${configName} holds no complete model configuration: no estimate`);
  const dims = { ...site.dims, causal: site.dims.causal || hasPast };
  return {
    source: `${configName} (${site.label})`,
    estimate: (n, batch, queries) => {
      const shaped = attentionShape(dims, { seq: n, batch, dtype, mode: 'inference' });
      if ('missing' in shaped) return undefined;
      const d = denseEstimate(shaped.shape);
      // the estimator's peak counts the weights only where the config gives their sizes
      return { attentionBytes: (d.attentionBytesAllLayers * queries) / n, kvCacheBytes: d.kvCacheBytes, ...(d.weightBytes === undefined ? {} : { peakBytes: d.peakBytes }) };
    },
  };
}
