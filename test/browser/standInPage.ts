// The panel's page in Chromium: the webview bundle under a stand-in for VS Code's webview API
// (acquireVsCodeApi, postMessage both ways, setState), with the messages it sends recorded in
// window.sent and the state in window.savedState.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Page, chromium } from 'playwright-core';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { headMatrix, headTile, headsWindow, tokenRows } from '../../src/analysis/captureViews';
import type { CaptureSummary } from '../../src/protocol';
import { REPO } from '../helpers/paths';
import { PAGE_CHECKS } from './pageChecks';
import { ThemeName, setTheme } from './themes';

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

/** Replies to every window and tokenRow request of the page from `capture`, as the host does: the model and token views' data. */
export async function answerViews(p: Page, capture: AttentionCapture): Promise<void> {
  await p.exposeFunction('windowOf', (r: { q0: number; q1: number; k0: number; k1: number; maxCells: number }) =>
    headsWindow(capture, r.q0, r.q1, r.k0, r.k1, r.maxCells).map(({ values, ...shape }) => ({ ...shape, values: Array.from(values) })),
  );
  await p.exposeFunction('tokenRowOf', (r: { token: number; side: 'query' | 'key'; text: 'source' | 'target' }) => {
    try {
      const rows = tokenRows(capture, r.token, r.side, r.text);
      return { ...rows, layers: rows.layers.map(({ values, ...shape }) => ({ ...shape, values: Array.from(values) })) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  });
  await p.evaluate(`setInterval(async () => {
    const r = window.sent.find((m) => m.type === 'request' && (m.method === 'window' || m.method === 'tokenRow') && !m.answered);
    if (!r) return;
    r.answered = true;
    if (r.method === 'window') {
      const tiles = await window.windowOf(r.params);
      window.postMessage({ type: 'reply', id: r.id, method: 'window', result: { tiles: tiles.map((t) => ({ ...t, values: new Float32Array(t.values) })) } }, '*');
      return;
    }
    const rows = await window.tokenRowOf(r.params);
    if (rows.error) window.postMessage({ type: 'reply', id: r.id, method: 'tokenRow', error: rows.error }, '*');
    else window.postMessage({ type: 'reply', id: r.id, method: 'tokenRow', result: { ...rows, layers: rows.layers.map((l) => ({ ...l, values: new Float32Array(l.values) })) } }, '*');
  }, 20)`);
}

/**
 * A panel page at `width` in `theme` with the page checks installed, the summary shown and every
 * request of its views answered from `data.capture`; `errors` collects the page's errors.
 */
export async function openPanel(browser: Awaited<ReturnType<typeof launch>>, data: { capture: AttentionCapture; summary: CaptureSummary }, width = 900, theme: ThemeName = 'light'): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(PAGE_CHECKS);
  await page.goto(`file://${standInPage()}`);
  await setTheme(page, theme);
  await page.waitForFunction('window.sent.length > 0');
  await answerHeads(page, data.capture);
  await answerViews(page, data.capture);
  await page.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary: data.summary })}, '*')`);
  await page.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
  return { page, errors };
}

/** Shows a tab of the panel and waits until it is drawn. */
export async function showView(page: Page, view: string): Promise<void> {
  await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
  await page.click(`nav.tabs button[data-view="${view}"]`);
  await page.waitForSelector(`#view[data-ready="${view}"]`, { timeout: 30000 });
}
