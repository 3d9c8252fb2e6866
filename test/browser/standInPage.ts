// The panel's page in Chromium: the webview bundle under a stand-in for VS Code's webview API
// (acquireVsCodeApi, postMessage both ways, setState), with the messages it sends recorded in
// window.sent and the state in window.savedState.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Page, chromium } from 'playwright-core';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { headMatrix, headTile } from '../../src/analysis/captureViews';
import { REPO } from '../helpers/paths';

const CHROMIUM = process.env.ATTENTION_LENS_CHROMIUM ?? '/usr/bin/chromium';

/** The page's file: the bundle and the stylesheet as VS Code serves them; `body` the markup of its body's opening tag. */
export function standInPage(body = '<body>'): string {
  const dir = mkdtempSync(join(tmpdir(), 'panel-'));
  const page = join(dir, 'panel.html');
  writeFileSync(
    page,
    `<!DOCTYPE html><html><head><style>${readFileSync(join(REPO, 'media', 'attention.css'), 'utf8')}</style></head>${body}<div id="app"></div>
<script>
window.sent = []; let state;
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState: () => state, setState: (s) => { state = s; window.savedState = s; } });
</script><script src="file://${join(REPO, 'dist', 'webview.js')}"></script></body></html>`,
  );
  return page;
}

export const launch = () => chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'] });

/** Replies to every head and tile request of the page from `capture`, as the host does. */
export async function answerHeads(p: Page, capture: AttentionCapture): Promise<void> {
  await p.exposeFunction('headOf', (layer: number, head: number) => {
    const { probs, ...shape } = headMatrix(capture, layer, head)!;
    return { ...shape, probs: Array.from(probs) };
  });
  await p.exposeFunction('tileOf', (r: { layer: number; head: number; q0: number; q1: number; k0: number; k1: number; maxCells: number }) => {
    const { values, ...shape } = headTile(capture, r.layer, r.head, r.q0, r.q1, r.k0, r.k1, r.maxCells)!;
    return { ...shape, values: Array.from(values) };
  });
  await p.evaluate(`setInterval(async () => {
    const r = window.sent.find((m) => m.type === 'request' && (m.method === 'head' || m.method === 'tile') && !m.answered);
    if (!r) return;
    r.answered = true;
    if (r.method === 'tile') {
      const t = await window.tileOf(r.params);
      window.postMessage({ type: 'reply', id: r.id, method: 'tile', result: { ...t, values: new Float32Array(t.values) } }, '*');
      return;
    }
    const h = await window.headOf(r.params.layer, r.params.head);
    window.postMessage({ type: 'reply', id: r.id, method: 'head', result: { matrix: { ...h, probs: new Float32Array(h.probs) } } }, '*');
  }, 20)`);
}
