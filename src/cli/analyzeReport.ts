// The JSON report of `attention-lens analyze` (field names are a contract, docs/cli-json.md);
// its standalone HTML report is written by src/reportFile.ts.
import type { AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { AttentionCapture } from '../analysis/attentionCapture';
import type { LabResult } from '../analysis/efficientAttentionLab';
import type { ModelInfo } from '../model/capture';
import type { ProviderRun } from '../model/executionProviders';

/** The JSON report of `analyze`: field names are a contract. */
export function analysisReport(info: ModelInfo, capture: AttentionCapture, analysis: AttentionAnalysis, includeAttention: boolean, lab?: LabResult): object {
  return {
    model: modelReport(info, capture.executionProvider),
    tokens: capture.tokens,
    inputIds: capture.inputIds,
    offsets: capture.offsets,
    ...(capture.probe ? { probe: capture.probe } : {}),
    ...(capture.target ? { target: capture.target } : {}),
    layers: capture.layers.map((l, i) => ({
      index: capture.layerIndices[i],
      name: l.name,
      ...(l.part ? { part: l.part } : {}),
      heads: l.heads,
      queries: l.queries,
      keys: l.keys,
      ...(includeAttention ? { attention: headRows(l.probs, l.heads, l.queries, l.keys) } : {}),
    })),
    ...(capture.predictions ? { predictions: capture.predictions } : {}),
    ...analysisFields(analysis),
    ...(lab ? labFields(lab) : {}),
    warnings: capture.warnings,
  };
}

function labFields(lab: LabResult): object {
  return {
    methods: lab.heads.flatMap((h) => h.methods.map((m) => ({ layer: h.layer, head: h.head, ...m }))),
    equalBudget: lab.equalBudget,
    budgetCurves: lab.budgetCurves,
    ...(lab.buckets ? { buckets: lab.buckets } : {}),
    labNotes: lab.notes,
  };
}

export function modelReport(info: ModelInfo, executionProvider: string): object {
  return {
    path: info.path,
    layers: info.layers,
    headsPerLayer: info.headsPerLayer,
    executionProvider,
    inputs: info.inputs,
    layerNames: info.layerNames,
    attention: info.attention,
    precision: info.precision,
    maxPositions: info.maxPositions,
    tokenizer: info.tokenizer,
    executionProviderChoice: providerChoice(info.providerRun),
    ...(info.variants.length ? { variants: info.variants } : {}),
    ...(info.decoder ? { decoder: info.decoder } : {}),
    ...(info.decoderStartId !== undefined ? { decoderStartId: info.decoderStartId } : {}),
  };
}

/** How the provider was chosen (the one that ran is executionProvider). */
function providerChoice({ provider: _ran, ...choice }: ProviderRun): object {
  return choice;
}

export function analysisFields(a: AttentionAnalysis): object {
  return { causal: a.causal, heads: a.heads, relative: a.relative, ...(a.headDistance ? { headDistance: a.headDistance } : {}), ...(a.rollout ? { rollout: a.rollout } : {}) };
}

function headRows(probs: Float32Array, heads: number, queries: number, keys: number): number[][][] {
  return Array.from({ length: heads }, (_, h) =>
    Array.from({ length: queries }, (_, q) => Array.from(probs.subarray((h * queries + q) * keys, (h * queries + q + 1) * keys))),
  );
}
