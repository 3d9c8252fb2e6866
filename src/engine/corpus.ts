// Corpus mode, shared by the CLI and the editor: the texts of a corpus file or folder, each run
// separately in the engine, their statistics averaged as Clark et al. do.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AttentionCapture } from '../analysis/attentionCapture';
import { AnalysisOptions, AttentionAnalysis, corpusAnalysis } from '../analysis/attentionAnalysis';
import type { CaptureOptions, LoadOptions } from '../model/capture';
import { InputError } from '../model/inputError';
import { readUserText } from '../model/userFiles';
import { EngineClient, EngineError } from './engineClient';

/** Texts of a corpus: the non-empty lines of a file, or the .txt files of a folder. */
export function corpusTexts(path: string): string[] {
  let folder;
  try {
    folder = statSync(path).isDirectory();
  } catch (e) {
    throw new InputError(`cannot read the corpus ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let texts = folder
    ? readdirSync(path)
        .filter((f) => f.endsWith('.txt'))
        .sort()
        .map((f) => readUserText(join(path, f), 'corpus'))
    : readUserText(path, 'corpus').split(/\r?\n/);
  texts = texts.map((t) => t.trim()).filter((t) => t !== '');
  if (texts.length === 0) throw new InputError(`the corpus ${path} holds no text (one text per line, or a folder of .txt files)`);
  return texts;
}

export interface CorpusResult {
  analysis: AttentionAnalysis;
  /** the first text's capture (without its probabilities), for the heatmaps */
  first: AttentionCapture;
  /** the id under which the engine keeps the first capture, when asked to */
  firstCaptureId?: string;
  /** the ONNX file that ran */
  modelPath: string;
  executionProvider: string;
}

/**
 * Runs every text; `onText` hears of each one done. A cancel kills the engine and rejects the
 * running request; `signal` also stops the loop when the cancel falls between two texts, which
 * would otherwise start a fresh engine for the next one.
 */
export async function analyzedCorpus(
  engine: EngineClient,
  load: LoadOptions,
  texts: readonly string[],
  opts: { capture: Omit<CaptureOptions, 'text' | 'ids'>; analysis: AnalysisOptions; keepFirst?: { budgetBytes: number } },
  onText: (done: number, total: number, tokens: number) => void,
  signal?: AbortSignal,
): Promise<CorpusResult> {
  const parts: AttentionAnalysis[] = [];
  let first: AttentionCapture | undefined;
  let firstCaptureId: string | undefined;
  let modelPath = '';
  let executionProvider = '';
  for (const [k, text] of texts.entries()) {
    if (signal?.aborted) throw new EngineError('cancelled', 'the run was cancelled');
    const r = await engine.analyze({ load, capture: { ...opts.capture, text }, analysis: k === 0 ? opts.analysis : { ...opts.analysis, noRollout: true }, returnAttention: false, ...(k === 0 && opts.keepFirst ? { keep: opts.keepFirst } : {}) });
    parts.push(r.analysis);
    first ??= r.capture;
    firstCaptureId ??= r.captureId;
    modelPath = r.modelPath;
    executionProvider = r.capture.executionProvider;
    onText(k + 1, texts.length, r.capture.tokens.length);
  }
  return { analysis: corpusAnalysis(parts), first: first!, ...(firstCaptureId ? { firstCaptureId } : {}), modelPath, executionProvider };
}
