// The messages between the extension host (or CLI) and the engine child process.
import type { AttentionCapture, LayerAttention } from '../analysis/attentionCapture';
import type { HeadMap } from '../analysis/headDistance';
import type { AnalysisOptions, AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { LabOptions, LabResult } from '../analysis/efficientAttentionLab';
import type { CaptureOptions, LoadOptions, ModelInfo, RecurrenceOptions } from '../model/capture';
import type { RecurrenceHead } from '../analysis/recurrence';

export interface RecurrenceReport {
  tokens: string[];
  inputIds: number[];
  recurrence: { segment: number; memory: number; heads: RecurrenceHead[] };
  compressive?: { rate: number; compressedMemory: number; memory: number; klNats: number; bytesSaved: number };
}

export interface EngineMethods {
  load: { params: LoadOptions; result: ModelInfo };
  capture: { params: { load: LoadOptions; capture: CaptureOptions }; result: AttentionCapture };
  /** capture and head analysis in the engine; the probabilities come back only when asked for */
  analyze: {
    params: { load: LoadOptions; capture: CaptureOptions; analysis: AnalysisOptions; lab?: LabOptions; returnAttention: boolean };
    result: { capture: AttentionCapture; analysis: AttentionAnalysis; lab?: LabResult };
  };
  /** head distances and their embedding for layers the caller holds (an analysis that left them out for their cost) */
  headMap: { params: { layers: LayerAttention[]; causal: boolean }; result: HeadMap };
  /** Transformer-XL recurrence on a decoder's cache, and compressive memory against an uncompressed run */
  recurrence: { params: { load: LoadOptions; run: RecurrenceOptions }; result: RecurrenceReport };
  /** the engine's own peak resident memory */
  stats: { params: Record<string, never>; result: { maxRssBytes: number } };
}

export type EngineMethod = keyof EngineMethods;

export interface EngineRequest<M extends EngineMethod = EngineMethod> {
  id: number;
  method: M;
  params: EngineMethods[M]['params'];
}

/** input: the user's model or text is at fault (CLI exit 2); internal: a failure of ours (exit 1). */
export type EngineFailureKind = 'input' | 'internal';

export type EngineResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; kind: EngineFailureKind; message: string };
