// `attention-lens analyze` run in the engine: one text (and the lab), a corpus, or segment
// recurrence, each written as its JSON report.
import { analyzedCorpus, corpusTexts } from '../engine/corpus';
import { EngineClient } from '../engine/engineClient';
import type { AnalyzeOptions } from './analyzeOptions';
import { writeAtomically } from '../model/userFiles';
import { writeReport } from '../reportFile';
import { analysisFields, analysisReport, modelReport } from './analyzeReport';
import { predictionLine } from '../analysis/tokenPredictions';

/** Runs what the options ask for in the engine and writes its JSON report (and the HTML one). */
export async function runAnalyze(o: AnalyzeOptions, files: { enginePath: string; webviewBundle: string; reportHost: string; css: string }): Promise<void> {
  const { load, analysis: analysisOptions, mode, output } = o;
  const engine = new EngineClient({ enginePath: files.enginePath, timeoutMs: o.timeoutMs });
  const write = (report: object, summary: string): void => {
    const json = JSON.stringify(report);
    if (output.json) {
      writeAtomically(output.json, json + '\n');
      process.stdout.write(`${summary}; wrote ${output.json}\n`);
    } else process.stdout.write(json + '\n');
  };
  try {
    const info = await engine.load(load);
    if (mode.kind === 'segments') {
      const { segment, memory } = mode.run;
      const r = await engine.recurrence({ load, run: mode.run });
      write(
        { model: modelReport(info, info.executionProvider), tokens: r.tokens, inputIds: r.inputIds, recurrence: r.recurrence, ...(r.compressive ? { compressive: r.compressive } : {}) },
        `${info.path}: ${r.tokens.length} tokens in segments of ${segment}, memory ${memory}`,
      );
      return;
    }
    if (mode.kind === 'corpus') {
      const texts = corpusTexts(mode.corpus);
      const { analysis: combined, executionProvider: provider } = await analyzedCorpus(
        engine,
        load,
        texts,
        { capture: mode.capture, analysis: analysisOptions },
        (done, total, tokens) => process.stderr.write(`attention-lens: text ${done}/${total} (${tokens} tokens)\n`),
      );
      write(
        { model: modelReport(info, provider), texts: texts.length, ...analysisFields(combined) },
        `${info.path}: ${texts.length} texts, ${combined.heads.length} heads, execution provider ${provider}`,
      );
      return;
    }
    const { capture, analysis, lab: labResult } = await engine.analyze({
      load,
      capture: mode.capture,
      analysis: analysisOptions,
      lab: mode.lab,
      returnAttention: output.includeAttention || output.html !== undefined,
    });
    if (output.html !== undefined) process.stderr.write(`attention-lens: ${writeReport(output.html, info.path, capture, analysis, labResult, files)}\n`);
    for (const w of capture.warnings) process.stderr.write(`attention-lens: warning: ${w}\n`);
    write(
      analysisReport(info, capture, analysis, output.includeAttention, labResult),
      `${info.path}: ${capture.tokens.length} tokens${capture.probe ? ` (the induction probe: ${capture.probe.length} random tokens shown twice, seed ${capture.probe.seed})` : ''}${capture.target ? ` and ${capture.target.tokens.length} target tokens` : ''}, ${capture.layers.length} attention layers, ${analysis.heads.length} heads, execution provider ${capture.executionProvider}${(capture.predictions ?? []).map((p) => `; ${predictionLine(p, capture.tokens)}`).join('')}`,
    );
  } finally {
    engine.dispose();
  }
}
