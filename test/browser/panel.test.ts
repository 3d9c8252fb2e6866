// The panel's own path in Chromium: the webview bundle under a stand-in for VS Code's webview API
// (acquireVsCodeApi, postMessage both ways, setState), fed by the host functions the extension
// uses. Exports reach the host as messages; state is kept for a reload.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { captureSummary, headMatrix } from '../../src/analysis/captureViews';
import { efficientAttentionLab } from '../../src/analysis/efficientAttentionLab';
import { LoadedModel } from '../../src/model/capture';
import { isWebviewMessage } from '../../src/protocol';
import { REPO, TINY_BERT } from '../helpers/paths';

process.env.ORT_DISABLE_TELEMETRY = '1';
const CHROMIUM = process.env.ATTENTION_LENS_CHROMIUM ?? '/usr/bin/chromium';

/** A page with the webview bundle under the stand-in: what VS Code gives a webview, with the messages recorded for the test. */
function standInPage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'panel-'));
  const page = join(dir, 'panel.html');
  writeFileSync(
    page,
    `<!DOCTYPE html><html><head><style>${readFileSync(join(REPO, 'media', 'attention.css'), 'utf8')}</style></head><body><div id="app"></div>
<script>
window.sent = []; let state;
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState: () => state, setState: (s) => { state = s; window.savedState = s; } });
</script><script src="file://${join(REPO, 'dist', 'webview.js')}"></script></body></html>`,
  );
  return page;
}

const launch = () => chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'] });

test('the panel under a VS Code stand-in: summary first, a head on request, exports as host messages, state kept', async () => {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const capture = await m.capture({ text: 'the quick brown fox jumps over the lazy dog.', includeQueryKey: true });
  const summary = captureSummary(m.info.path, capture, analyzeCapture(capture), efficientAttentionLab(capture, { head: { layer: 0, head: 1 } }));
  const page = standInPage();
  const browser = await launch();
  try {
    const p = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await p.goto(`file://${page}`);
    await p.waitForFunction('window.sent.length > 0');
    assert.deepEqual(await p.evaluate('window.sent[0]'), { type: 'ready' });
    // The host answers with the summary only: no matrices.
    assert.equal(JSON.stringify(summary).includes('probs'), false);
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary })}, '*')`);
    await p.waitForSelector('#view[data-ready="overview"]');
    // Colour the overview by a method's recall from the lab.
    const options = await p.locator('vscode-dropdown >> nth=0').locator('vscode-option').allTextContents();
    assert.ok(options.includes('recall of lsh') && options.includes('entropy (nats)'), options.join(', '));
    // The head view asks the host for one head, and draws what comes back.
    await p.click('nav.tabs button[data-view="head"]');
    const request = (await p.waitForFunction('window.sent.find((m) => m.type === "requestHead")')).jsonValue() as Promise<{ id: number; layer: number; head: number }>;
    const req = await request;
    assert.ok(isWebviewMessage(req));
    const matrix = headMatrix(capture, req.layer, req.head)!;
    const { probs, ...shape } = matrix;
    await p.evaluate(`window.postMessage({ type: 'headMatrix', id: ${req.id}, matrix: { ...${JSON.stringify(shape)}, probs: new Float32Array(${JSON.stringify(Array.from(probs))}) } }, '*')`);
    await p.waitForSelector('#view[data-ready="head"]');
    // An export goes to the host as a message it validates, named after the view.
    await p.click('.exports button[data-export="csv"]');
    const exported = (await p.waitForFunction('window.sent.find((m) => m.type === "export")')).jsonValue() as Promise<{ fileName: string; content: string }>;
    const e = await exported;
    assert.ok(isWebviewMessage(e));
    assert.equal(e.fileName, 'head-0-0.csv');
    assert.equal(e.content.trim().split('\n').length, capture.tokens.length + 1);
    // The state a reload restores from: the view, the head and the source of the capture.
    const saved = (await p.evaluate('window.savedState')) as { view: string; layer: number; head: number };
    assert.deepEqual([saved.view, saved.layer, saved.head], ['head', 0, 0]);
    // The same source again (a reload) keeps the view; another text opens on the overview.
    const withSource = (text: string): string => JSON.stringify({ type: 'summary', summary: { ...summary, source: { model: m.info.path, text } } });
    await p.evaluate(`window.postMessage(${withSource('the quick brown fox jumps over the lazy dog.')}, '*')`);
    await p.evaluate(`window.postMessage(${withSource('the quick brown fox jumps over the lazy dog.')}, '*')`);
    await p.waitForFunction('window.sent.filter((m) => m.type === "requestHead").length >= 3');
    assert.equal(await p.locator('nav.tabs button.active').getAttribute('data-view'), 'head');
    await p.evaluate(`window.postMessage(${withSource('another text.')}, '*')`);
    await p.waitForSelector('#view[data-ready="overview"]');
  } finally {
    await browser.close();
  }
});

test('head distances left out for their cost are offered, asked of the host, and drawn when they come', async () => {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const capture = await m.capture({ text: 'the quick brown fox jumps over the lazy dog.' });
  const skipped = captureSummary(m.info.path, capture, analyzeCapture(capture, { headDistanceSeconds: 0 }));
  const full = captureSummary(m.info.path, capture, analyzeCapture(capture));
  const browser = await launch();
  try {
    const p = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await p.goto(`file://${standInPage()}`);
    await p.waitForFunction('window.sent.length > 0');
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary: skipped })}, '*')`);
    await p.waitForSelector('#view[data-ready="overview"]');
    assert.equal(await p.locator('#embedding').count(), 0);
    assert.match(await p.locator('#head-map-offer').innerText(), /Jensen-Shannon distance .* about \d/);
    await p.click('#head-map-offer button');
    const asked = (await (await p.waitForFunction('window.sent.find((m) => m.type === "requestHeadMap")')).jsonValue()) as { id: number };
    assert.ok(isWebviewMessage(asked));
    assert.equal(await p.locator('#head-map-offer button').isDisabled(), true, 'one request at a time');
    // A head asked for meanwhile has its own request: the map's answer is still heard.
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary: skipped })}, '*')`);
    const pending = (await (await p.waitForFunction('window.sent.filter((m) => m.type === "requestHeadMap").length === 1 && window.sent.find((m) => m.type === "requestHeadMap")')).jsonValue()) as { id: number };
    await p.click('nav.tabs button[data-view="head"]');
    await p.waitForFunction('window.sent.some((m) => m.type === "requestHead")');
    await p.evaluate(`window.postMessage({ type: 'error', id: ${pending.id}, message: 'the head map failed: the run was cancelled' }, '*')`);
    await p.waitForSelector('p.error');
    assert.match(await p.locator('p.error').innerText(), /the head map failed/);
    await p.click('nav.tabs button[data-view="overview"]');
    await p.waitForSelector('#head-map-offer button:not([disabled])');
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary: full })}, '*')`);
    await p.waitForSelector('#embedding .main-svg');
    assert.equal(await p.locator('#head-map-offer').count(), 0);
  } finally {
    await browser.close();
  }
});
