// The reports of `attention-lens analyze`: the JSON (field names are a contract,
// docs/cli-json.md) and the standalone HTML report.
import { readFileSync } from 'node:fs';
import type { AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { AttentionCapture } from '../analysis/attentionCapture';
import { captureSummary, headMatrix } from '../analysis/captureViews';
import type { LabResult } from '../analysis/efficientAttentionLab';
import type { ModelInfo } from '../model/capture';
import { REPORT_MATRIX_FLOATS, reportHtml } from '../reportHtml';
import { writeAtomically } from './optionValues';

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

/** The standalone HTML report, with every head's matrix when they fit. */
export function writeReport(path: string, modelPath: string, capture: AttentionCapture, analysis: AttentionAnalysis, lab: LabResult | undefined, files: { webviewBundle: string; reportHost: string; css: string }): void {
  const floats = capture.layers.reduce((s, l) => s + l.probs.length, 0);
  const matrices =
    floats <= REPORT_MATRIX_FLOATS
      ? capture.layers.flatMap((l, li) => Array.from({ length: l.heads }, (_, h) => ({ ...headMatrix(capture, li, h)!, layer: li })))
      : undefined;
  const bundles = { webview: readFileSync(files.webviewBundle, 'utf8'), host: readFileSync(files.reportHost, 'utf8') };
  const css = readFileSync(files.css, 'utf8');
  writeAtomically(path, reportHtml(captureSummary(modelPath, capture, analysis, lab), matrices, bundles, css));
  process.stderr.write(`attention-lens: wrote the report ${path}${matrices ? '' : ` (matrices left out: ${floats} probabilities)`}\n`);
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
    ...(info.variants.length ? { variants: info.variants } : {}),
    ...(info.decoder ? { decoder: info.decoder } : {}),
    ...(info.decoderStartId !== undefined ? { decoderStartId: info.decoderStartId } : {}),
  };
}

export function analysisFields(a: AttentionAnalysis): object {
  return { causal: a.causal, heads: a.heads, relative: a.relative, ...(a.headDistance ? { headDistance: a.headDistance } : {}), ...(a.rollout ? { rollout: a.rollout } : {}) };
}

function headRows(probs: Float32Array, heads: number, queries: number, keys: number): number[][][] {
  return Array.from({ length: heads }, (_, h) =>
    Array.from({ length: queries }, (_, q) => Array.from(probs.subarray((h * queries + q) * keys, (h * queries + q + 1) * keys))),
  );
}
