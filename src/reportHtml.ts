// The standalone HTML report: the webview bundle, its stylesheet and the data in one file that
// opens in any browser with no network, for sharing and for papers.
import { attentionTile } from './analysis/attentionTiles';
import { layerTokens } from './analysis/attentionCapture';
import { isSpecialToken, wordIndices, wordLabels, wordLevelLayer } from './analysis/wordAttention';
import type { CaptureSummary } from './protocol';

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

export function reportHtml(summary: CaptureSummary, matrices: ReportMatrix[] | undefined, bundle: string, css: string): string {
  const data = {
    summary,
    matrices: matrices?.map((m) => ({ ...m, probs: Buffer.from(m.probs.buffer, m.probs.byteOffset, m.probs.byteLength).toString('base64') })),
  };
  // The report's host cuts tiles and joins words with the very functions the editor's host uses.
  const host = `
const attentionTile = ${attentionTile.toString()};
const wordIndices = ${wordIndices.toString()};
const wordLevelLayer = ${wordLevelLayer.toString()};
const wordLabels = ${wordLabels.toString()};
const isSpecialToken = ${isSpecialToken.toString()};
const layerTokens = ${layerTokens.toString()};
const data = ${JSON.stringify(data)};
const decoded = (b64) => { const bin = atob(b64); const bytes = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i); return new Float32Array(bytes.buffer); };
let saved;
window.attentionLensHost = {
  getState: () => saved,
  setState: (s) => { saved = s; },
  saveFile: (name, content, base64) => {
    const bytes = base64 ? Uint8Array.from(atob(content), (c) => c.charCodeAt(0)) : new TextEncoder().encode(content);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes]));
    a.download = name;
    a.click();
  },
  postMessage: (m) => setTimeout(() => {
    if (m.type === 'ready') window.postMessage({ type: 'summary', summary: data.summary }, '*');
    else if (m.type === 'requestTile') {
      const found = data.matrices && data.matrices.find((x) => x.layer === m.layer && x.head === m.head);
      if (!found) { window.postMessage({ type: 'error', id: m.id, message: 'this report leaves out attention matrices above ${REPORT_MATRIX_FLOATS.toLocaleString('en-US')} probabilities' }, '*'); return; }
      const q1 = Math.min(m.q1, found.queries), k1 = Math.min(m.k1, found.keys);
      const tile = attentionTile(decoded(found.probs), 0, found.keys, m.q0, q1, m.k0, k1, m.maxCells, m.maxCells);
      window.postMessage({ type: 'headTile', id: m.id, tile: { layer: m.layer, head: m.head, queries: found.queries, keys: found.keys, ...tile } }, '*');
    }
    else if (m.type === 'requestHead') {
      const found = data.matrices && data.matrices.find((x) => x.layer === m.layer && x.head === m.head);
      const matrix = found && { layer: m.layer, head: m.head, queries: found.queries, keys: found.keys, probs: decoded(found.probs) };
      let words;
      if (matrix && m.words) {
        const sides = layerTokens(data.summary, data.summary.layers[m.layer].part);
        const wordsOf = (side) => wordIndices(side.tokens, side.offsets, (i) => isSpecialToken(side.tokens[i]));
        const queryWord = wordsOf(sides.queries);
        const keyWord = wordsOf(sides.keys);
        const l = wordLevelLayer({ name: '', heads: 1, queries: matrix.queries, keys: matrix.keys, probs: matrix.probs }, queryWord, keyWord);
        words = { matrix: { layer: m.layer, head: m.head, queries: l.queries, keys: l.keys, probs: l.probs }, labels: { queries: wordLabels(sides.queries.tokens, queryWord), keys: wordLabels(sides.keys.tokens, keyWord) } };
      }
      window.postMessage(found
        ? { type: 'headMatrix', id: m.id, ...(words || { matrix }) }
        : { type: 'error', id: m.id, message: 'this report leaves out attention matrices above ${REPORT_MATRIX_FLOATS.toLocaleString('en-US')} probabilities' }, '*');
    }
  }, 0),
};`;
  // VS Code's Light Modern and Dark Modern colours, chosen by the reader's system setting.
  const theme =
    `body{--vscode-editor-foreground:#1f1f1f;--vscode-editor-background:#ffffff;--vscode-focusBorder:#005fb8;--vscode-descriptionForeground:#616161;--vscode-font-family:system-ui,sans-serif;--vscode-font-size:13px;--vscode-button-background:#005fb8;--vscode-button-foreground:#fff;--vscode-button-secondaryBackground:#e5e5e5;--vscode-button-secondaryForeground:#1f1f1f;--vscode-textLink-foreground:#005fb8}` +
    `@media (prefers-color-scheme: dark){body{--vscode-editor-foreground:#cccccc;--vscode-editor-background:#1f1f1f;--vscode-focusBorder:#0078d4;--vscode-descriptionForeground:#9d9d9d;--vscode-button-background:#0078d4;--vscode-button-secondaryBackground:#313131;--vscode-button-secondaryForeground:#cccccc;--vscode-textLink-foreground:#4daafc}}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline';">
<title>Attention Lens: ${summary.modelPath.replace(/[<>&]/g, '')}</title>
<style>${theme}\n${css}</style></head>
<body><div id="app"></div>
<script>${scriptSafe(host)}</script>
<script>${scriptSafe(bundle)}</script>
</body></html>
`;
}
