// The panel's page in Chromium: the webview bundle under a stand-in for VS Code's webview API
// (acquireVsCodeApi, postMessage both ways, setState), with the messages it sends recorded in
// window.sent and the state in window.savedState.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Page, chromium } from 'playwright-core';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { askedHead, headTile, headsWindow, tokenRows } from '../../src/analysis/captureViews';
import { CaptureSummary, PanelHandlers, PanelRequest, panelReply } from '../../src/protocol';
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

/** A reply with its Float32Arrays as marked arrays, which the page's bridge turns back: playwright passes plain JSON. */
const plain = (v: unknown): unknown =>
  v instanceof Float32Array ? { float32: Array.from(v) } : Array.isArray(v) ? v.map(plain) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;

/**
 * Replies to the page's head, tile, window and tokenRow requests from `capture` with the functions
 * the engine answers them with, paired by panelReply as the host pairs them.
 */
export async function answerHeads(p: Page, capture: AttentionCapture): Promise<void> {
  const outOfRange = (): never => {
    throw new Error('no such head');
  };
  const handlers: PanelHandlers<'head' | 'tile' | 'window' | 'tokenRow'> = {
    head: (r) => askedHead(capture, r.layer, r.head, !!r.words) ?? outOfRange(),
    tile: (r) => headTile(capture, r.layer, r.head, r.q0, r.q1, r.k0, r.k1, r.maxCells) ?? outOfRange(),
    window: (r) => ({ tiles: headsWindow(capture, r.q0, r.q1, r.k0, r.k1, r.maxCells) }),
    tokenRow: (r) => tokenRows(capture, r.token, r.side, r.text),
  };
  await p.exposeFunction('replyTo', async (request: PanelRequest) => plain(await panelReply(handlers, request)));
  await p.evaluate(`(() => {
    const typed = (v) => (v && typeof v === 'object' ? (Array.isArray(v.float32) ? new Float32Array(v.float32) : Array.isArray(v) ? v.map(typed) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typed(x)]))) : v);
    const asked = ['head', 'tile', 'window', 'tokenRow'];
    setInterval(async () => {
      const r = window.sent.find((m) => m.type === 'request' && asked.includes(m.method) && !m.answered);
      if (!r) return;
      r.answered = true;
      const { answered, ...request } = r;
      const reply = await window.replyTo(request);
      if (reply) window.postMessage(typed(reply), '*');
    }, 20);
  })()`);
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
