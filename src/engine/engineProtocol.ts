// The messages between the extension host (or CLI) and the engine child process, and the packed
// form in which an analysis travels.
import type { AttentionCapture } from '../analysis/attentionCapture';
import type { PanelMethods } from '../protocol';
import { HeadMap, matrixRows } from '../analysis/headDistance';
import type { AnalysisOptions, AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { AttentionRollout, RolloutStack } from '../analysis/attentionRollout';
import type { LabOptions, LabResult } from '../analysis/efficientAttentionLab';
import type { CaptureOptions, LoadOptions, ModelInfo } from '../model/capture';
import type { RecurrenceOptions } from '../model/segmentRecurrence';
import type { RecurrenceHead } from '../analysis/recurrence';
import type { ProfilePoint, TimelineStep } from '../analysis/memoryProfile';
import type { ProfileInput, ProfileTarget } from '../model/profiledRun';

export interface RecurrenceReport {
  tokens: string[];
  inputIds: number[];
  recurrence: { segment: number; memory: number; heads: RecurrenceHead[] };
  compressive?: { rate: number; compressedMemory: number; memory: number; klNats: number; bytesSaved: number };
}

/** A matrix of numbers as one array: the serializer copies a Float64Array as bytes, not number by number. */
export interface PackedRows {
  rows: number;
  values: Float64Array;
}

/**
 * An analysis as it crosses between the processes: its offset profiles (heads x 2R + 1 numbers,
 * 590 KB at n = 512 for BERT-base), head distances and rollouts packed. Sent number by number,
 * the message took 6 to 8 ms longer to arrive.
 */
export type WireAnalysis = Omit<AttentionAnalysis, 'relative' | 'headDistance' | 'rollout'> & {
  relative: { offsets: number[]; profile: PackedRows };
  headDistance?: Omit<HeadMap, 'jsd'> & { jsd: PackedRows };
  rollout?: Omit<AttentionRollout, 'stacks'> & { stacks: (Omit<RolloutStack, 'rollout' | 'flow'> & { rollout: PackedRows; flow?: PackedRows })[] };
};

function packedRows(rows: readonly number[][]): PackedRows {
  const cols = rows.length ? rows[0].length : 0;
  const values = new Float64Array(rows.length * cols);
  rows.forEach((row, r) => values.set(row, r * cols));
  return { rows: rows.length, values };
}

export function wireAnalysis({ relative, headDistance, rollout, ...rest }: AttentionAnalysis): WireAnalysis {
  return {
    ...rest,
    relative: { offsets: relative.offsets, profile: packedRows(relative.profile) },
    ...(headDistance ? { headDistance: { ...headDistance, jsd: packedRows(headDistance.jsd) } } : {}),
    ...(rollout
      ? { rollout: { ...rollout, stacks: rollout.stacks.map(({ flow, ...s }) => ({ ...s, rollout: packedRows(s.rollout), ...(flow ? { flow: packedRows(flow) } : {}) })) } }
      : {}),
  };
}

const unpacked = (p: PackedRows): number[][] => matrixRows(p.values, p.rows);

export function analysisFromWire({ relative, headDistance, rollout, ...rest }: WireAnalysis): AttentionAnalysis {
  return {
    ...rest,
    relative: { offsets: relative.offsets, profile: unpacked(relative.profile) },
    ...(headDistance ? { headDistance: { ...headDistance, jsd: unpacked(headDistance.jsd) } } : {}),
    ...(rollout ? { rollout: { ...rollout, stacks: rollout.stacks.map(({ flow, ...s }) => ({ ...s, rollout: unpacked(s.rollout), ...(flow ? { flow: unpacked(flow) } : {}) })) } } : {}),
  };
}

export interface EngineMethods {
  load: { params: LoadOptions; result: ModelInfo };
  capture: { params: { load: LoadOptions; capture: CaptureOptions }; result: AttentionCapture };
  /** capture and head analysis in the engine; the probabilities come back only when asked for */
  analyze: {
    /** keep: the engine keeps the capture (within budgetBytes of kept captures) and answers for it by id */
    params: { load: LoadOptions; capture: CaptureOptions; analysis: AnalysisOptions; lab?: LabOptions; returnAttention: boolean; keep?: { budgetBytes: number } };
    /** timings: the engine's capture and head statistics (a lab asked for runs after them) */
    result: { capture: AttentionCapture; analysis: WireAnalysis; lab?: LabResult; timings: { captureMs: number; statisticsMs: number }; captureId?: string; modelPath: string };
  };
  /** one head of a kept capture ([queries][keys]), or between words with their labels: what the panel asks, for the capture it shows */
  head: { params: { capture: string } & PanelMethods['head']['params']; result: PanelMethods['head']['result'] };
  /** a window of a head of a kept capture, at most maxCells a side */
  tile: { params: { capture: string } & PanelMethods['tile']['params']; result: PanelMethods['tile']['result'] };
  /** one window of every head of a kept capture, each at most maxCells a side: the model view's thumbnails */
  window: { params: { capture: string } & PanelMethods['window']['params']; result: PanelMethods['window']['result'] };
  /** one token's row or column in every head of a kept capture that reads its text */
  tokenRow: { params: { capture: string } & PanelMethods['tokenRow']['params']; result: PanelMethods['tokenRow']['result'] };
  /** one head's LSH buckets and routing clusters, from a kept capture's queries and keys under the lab options it was analysed with */
  buckets: { params: { capture: string } & PanelMethods['buckets']['params']; result: PanelMethods['buckets']['result'] };
  /** head distances and their embedding for a kept capture (an analysis that left them out for their cost) */
  headMap: { params: { capture: string }; result: HeadMap };
  /** a kept capture the caller no longer needs */
  release: { params: { capture: string }; result: null };
  /** the standalone HTML report of a kept capture (the CLI's --html), written to `path`; the bundles and stylesheet it inlines named by the caller */
  report: {
    params: { capture: string; path: string; modelPath: string; analysis: WireAnalysis; lab?: LabResult; files: { webviewBundle: string; reportHost: string; css: string } };
    result: null;
  };
  /** Transformer-XL recurrence on a decoder's cache, and compressive memory against an uncompressed run */
  recurrence: { params: { load: LoadOptions; run: RecurrenceOptions }; result: RecurrenceReport };
  /** what a memory profile needs of the model before its first point (no session is made) */
  profileTarget: { params: LoadOptions; result: ProfileTarget };
  /** one point of a memory profile: the untapped model run with ONNX Runtime's profiler on (src/engine/profileSweep.ts runs the sweep) */
  profile: {
    params: { load: LoadOptions; input: ProfileInput };
    /** rssReset: whether VmHWM could be reset before the run (else the sweep starts a fresh engine per point) */
    result: { point: ProfilePoint; timeline: TimelineStep[]; executionProvider: string; queries: number; rssReset: boolean };
  };
  /** the engine's own peak resident memory */
  processMemory: {
    params: Record<string, never>;
    /** hugePageBytes: memory held in transparent huge pages (Linux; null elsewhere) */
    result: { maxRssBytes: number; hugePageBytes: number | null };
  };
}

export type EngineMethod = keyof EngineMethods;

export interface EngineRequest<M extends EngineMethod = EngineMethod> {
  id: number;
  method: M;
  params: EngineMethods[M]['params'];
}

/** input: the user's model or text is at fault (CLI exit 2); internal: a failure of ours (exit 1); gone: a kept capture asked for is no longer held. */
export type EngineFailureKind = 'input' | 'internal' | 'gone';

export type EngineResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; kind: EngineFailureKind; message: string };

/** The start of the line the engine's memory watchdog writes on stderr before it ends the process: the client shows that line as the failure. */
export const MEMORY_LIMIT_MARK = 'the engine passed its memory limit:';
