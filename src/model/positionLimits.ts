// What the config and the graph say about a model's limits: the rows of its token embedding (its
// vocabulary) and the longest input it takes, each source of a limit named.
import type { ModelFiles } from './modelFiles';
import { InputPlan, staticCacheLength } from './modelInputs';
import type { OnnxModel } from './onnxGraph';

export function configNumber(config: Record<string, unknown> | undefined, keys: string[]): number | undefined {
  for (const k of keys) {
    const v = config?.[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  }
  return undefined;
}

/** Rows of the token-embedding table: the Gather that reads the ids input from an initializer. */
export function embeddingRows(model: OnnxModel, idsInput: string | undefined): number | undefined {
  if (!idsInput) return undefined;
  const castsOfIds = new Set([idsInput]);
  for (const n of model.nodes) if (n.opType === 'Cast' && castsOfIds.has(n.inputs[0])) castsOfIds.add(n.outputs[0]);
  for (const n of model.nodes) {
    if (n.opType === 'Gather' && castsOfIds.has(n.inputs[1])) {
      const table = model.initializers.get(n.inputs[0]);
      if (table && table.dims.length === 2) return table.dims[0];
    }
  }
  return undefined;
}

/** Rows of the rotary cos/sin cache of the attention or rotary ops: the positions the model was built for. */
function rotaryRows(model: OnnxModel): number | undefined {
  const cacheInput: Record<string, number> = { GroupQueryAttention: 7, RotaryEmbedding: 2 };
  for (const n of model.nodes) {
    const at = n.domain === 'com.microsoft' ? cacheInput[n.opType] : n.opType === 'RotaryEmbedding' ? 1 : undefined;
    const cache = at === undefined ? undefined : model.initializers.get(n.inputs[at] ?? '');
    if (cache && cache.dims.length === 2) return cache.dims[0];
  }
  return undefined;
}

/** Rows of a position-embedding table, when one is named so. */
function positionRows(model: OnnxModel): number | undefined {
  for (const n of model.nodes) {
    if (n.opType !== 'Gather' && n.opType !== 'Slice') continue;
    const table = model.initializers.get(n.inputs[0]);
    if (table && table.dims.length === 2 && /position|wpe|pos_emb/i.test(table.name)) return table.dims[0];
  }
  return undefined;
}

/** The longest input the model takes: the smallest limit the config and the graph state, and where it was read. */
export function positionsLimit(model: OnnxModel, plan: InputPlan, config: Record<string, unknown> | undefined, files: ModelFiles): { maxPositions?: number; from: string } {
  const limits: [number | undefined, string][] = [
    [configNumber(config, ['max_position_embeddings', 'n_positions', 'max_seq_len', 'n_ctx']), files.genaiConfigPath && !files.configPath ? "genai_config.json's context_length" : 'config.json'],
    [plan.mode.kind === 'fixed' ? plan.mode.length : undefined, 'the fixed length of its inputs'],
    [positionRows(model), "the rows of the graph's position embedding"],
    [rotaryRows(model), "the rows of the graph's rotary cos/sin cache"],
    [staticCacheLength(plan), 'the length of its static key/value cache'],
  ];
  const [maxPositions, from] = limits.reduce<[number | undefined, string]>((best, l) => (l[0] !== undefined && (best[0] === undefined || l[0] < best[0]) ? l : best), [undefined, '']);
  return { maxPositions, from };
}
