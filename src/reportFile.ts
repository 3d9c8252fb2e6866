// The standalone HTML report written to a file: the summary of a capture, every head's matrix
// when they fit, the webview's bundle and styles inline. The CLI's --html and the editor's
// Export HTML Report (through the engine, which holds the capture) both write it here.
import { readFileSync } from 'node:fs';
import type { AttentionAnalysis } from './analysis/attentionAnalysis';
import type { AttentionCapture } from './analysis/attentionCapture';
import { captureSummary, headMatrix } from './analysis/captureViews';
import type { LabResult } from './analysis/efficientAttentionLab';
import { writeAtomically } from './model/userFiles';
import { REPORT_MATRIX_FLOATS, reportHtml } from './reportHtml';

/** The standalone HTML report, with every head's matrix when they fit; what it says of itself, for the one who asked. */
export function writeReport(path: string, modelPath: string, capture: AttentionCapture, analysis: AttentionAnalysis, lab: LabResult | undefined, files: { webviewBundle: string; reportHost: string; css: string }): string {
  const floats = capture.layers.reduce((s, l) => s + l.probs.length, 0);
  const matrices =
    floats <= REPORT_MATRIX_FLOATS
      ? capture.layers.flatMap((l, li) => Array.from({ length: l.heads }, (_, h) => ({ ...headMatrix(capture, li, h)!, layer: li })))
      : undefined;
  const bundles = { webview: readFileSync(files.webviewBundle, 'utf8'), host: readFileSync(files.reportHost, 'utf8') };
  const css = readFileSync(files.css, 'utf8');
  writeAtomically(path, reportHtml(captureSummary(modelPath, capture, analysis, lab), matrices, bundles, css));
  return `wrote the report ${path}${matrices ? '' : ` (matrices left out: ${floats} probabilities)`}`;
}
