// The standalone HTML report: the webview bundle, its stand-in host (webview/reportHost.ts), its
// stylesheet and the data in one file that opens in any browser with no network, for sharing
// and for papers.
import type { MemoryProfile } from './analysis/memoryProfile';
import type { CaptureSummary, MemoryChart } from './protocol';

/** Above this many probabilities the report keeps the summaries and leaves the matrices out. */
export const REPORT_MATRIX_FLOATS = 4_000_000;

export interface ReportMatrix {
  layer: number;
  head: number;
  queries: number;
  keys: number;
  probs: Float32Array;
}

const scriptSafe = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

export function reportHtml(summary: CaptureSummary, matrices: ReportMatrix[] | undefined, bundles: { webview: string; host: string }, css: string): string {
  const data = {
    summary,
    matrices: matrices?.map((m) => ({ ...m, probs: Buffer.from(m.probs.buffer, m.probs.byteOffset, m.probs.byteLength).toString('base64') })),
    leftOut: `this report leaves out attention matrices above ${REPORT_MATRIX_FLOATS.toLocaleString('en-US')} probabilities`,
  };
  return reportPage(summary.modelPath, data, bundles, css);
}

/** The standalone report of a memory profile: the profiler's view; `estimate`, the estimate of the config beside the model, its first tab. */
export function profileReportHtml(profile: MemoryProfile, bundles: { webview: string; host: string }, css: string, estimate?: MemoryChart): string {
  return reportPage(`memory of ${profile.model}`, { profile, ...(estimate ? { estimate } : {}) }, bundles, css);
}

function reportPage(title: string, data: object, bundles: { webview: string; host: string }, css: string): string {
  // VS Code's Light Modern and Dark Modern colours, chosen by the reader's system setting.
  const theme =
    `body{--vscode-editor-foreground:#1f1f1f;--vscode-editor-background:#ffffff;--vscode-focusBorder:#005fb8;--vscode-descriptionForeground:#616161;--vscode-font-family:system-ui,sans-serif;--vscode-font-size:13px;--vscode-button-background:#005fb8;--vscode-button-foreground:#fff;--vscode-button-secondaryBackground:#e5e5e5;--vscode-button-secondaryForeground:#1f1f1f;--vscode-textLink-foreground:#005fb8}` +
    `@media (prefers-color-scheme: dark){body{--vscode-editor-foreground:#cccccc;--vscode-editor-background:#1f1f1f;--vscode-focusBorder:#0078d4;--vscode-descriptionForeground:#9d9d9d;--vscode-button-background:#0078d4;--vscode-button-secondaryBackground:#313131;--vscode-button-secondaryForeground:#cccccc;--vscode-textLink-foreground:#4daafc}}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline';">
<title>Attention Lens: ${title.replace(/[<>&]/g, '')}</title>
<style>${theme}\n${css}</style></head>
<body><div id="app"></div>
<script>window.attentionLensReport = ${scriptSafe(JSON.stringify(data))};</script>
<script>${scriptSafe(bundles.host)}</script>
<script>${scriptSafe(bundles.webview)}</script>
</body></html>
`;
}
