// The panel's own path in Chromium: the webview bundle under a stand-in for VS Code's webview API
// (acquireVsCodeApi, postMessage both ways, setState), fed by the host functions the extension
// uses. Exports reach the host as messages; state is kept for a reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { captureSummary, headMatrix } from '../../src/analysis/captureViews';
import { efficientAttentionLab } from '../../src/analysis/efficientAttentionLab';
import { LoadedModel } from '../../src/model/capture';
import { PanelRequest, isWebviewMessage } from '../../src/protocol';
import { TINY_BERT } from '../helpers/paths';
import { answerHeads, launch, standInPage } from './standInPage';

process.env.ORT_DISABLE_TELEMETRY = '1';

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
    const request = (await p.waitForFunction('window.sent.find((m) => m.method === "head")')).jsonValue() as Promise<PanelRequest<'head'>>;
    const req = await request;
    assert.ok(isWebviewMessage(req));
    assert.deepEqual(req, { type: 'request', id: req.id, method: 'head', params: { layer: 0, head: 0, words: false } });
    const { probs, ...shape } = headMatrix(capture, req.params.layer, req.params.head)!;
    const reply = (id: number): string => `window.postMessage({ type: 'reply', id: ${id}, method: 'head', result: { matrix: { ...${JSON.stringify(shape)}, probs: new Float32Array(${JSON.stringify(Array.from(probs))}) } } }, '*')`;
    // A newer request (head 1, then head 0 again) supersedes it: its reply is dropped, the newer one's drawn.
    const headPicked = async (head: number): Promise<number> => {
      await p.evaluate(`(() => { const d = document.querySelectorAll('vscode-dropdown')[1]; d.value = '${head}'; d.dispatchEvent(new Event('change')); })()`);
      return (await (await p.waitForFunction(`window.sent.findLast((m) => m.method === "head" && m.params.head === ${head} && m.id > ${req.id})?.id`)).jsonValue()) as number;
    };
    await headPicked(1);
    await p.evaluate(reply(req.id));
    await p.evaluate('new Promise((done) => setTimeout(done, 200))');
    assert.equal(await p.locator('#view[data-ready="head"]').count(), 0, 'a superseded reply is not drawn');
    await p.evaluate(reply(await headPicked(0)));
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
    await p.waitForFunction('window.sent.filter((m) => m.method === "head").length >= 3');
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
    const asked = (await (await p.waitForFunction('window.sent.find((m) => m.method === "headMap")')).jsonValue()) as PanelRequest<'headMap'>;
    assert.ok(isWebviewMessage(asked));
    assert.deepEqual(asked.params, {});
    assert.equal(await p.locator('#head-map-offer button').isDisabled(), true, 'one request at a time');
    // A head asked for meanwhile has its own request: the map's answer is still heard.
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary: skipped })}, '*')`);
    const pending = (await (await p.waitForFunction('window.sent.filter((m) => m.method === "headMap").length === 1 && window.sent.find((m) => m.method === "headMap")')).jsonValue()) as { id: number };
    await p.click('nav.tabs button[data-view="head"]');
    await p.waitForFunction('window.sent.some((m) => m.method === "head")');
    await p.evaluate(`window.postMessage({ type: 'reply', id: ${pending.id}, method: 'headMap', error: 'the head map failed: the run was cancelled' }, '*')`);
    await p.waitForSelector('p.error');
    assert.match(await p.locator('p.error').innerText(), /the head map failed/);
    await p.click('nav.tabs button[data-view="overview"]');
    await p.waitForSelector('#head-map-offer button:not([disabled])');
    // Asked again, the map comes as the reply's summary, drawn in place of the offer.
    await p.click('#head-map-offer button');
    const again = (await (await p.waitForFunction('window.sent.filter((m) => m.method === "headMap")[1]')).jsonValue()) as { id: number };
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'reply', id: again.id, method: 'headMap', result: full })}, '*')`);
    await p.waitForSelector('#embedding .main-svg');
    assert.equal(await p.locator('#head-map-offer').count(), 0);
    // The reply is heard once: the same reply again is not drawn again.
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'reply', id: again.id, method: 'headMap', result: skipped })}, '*')`);
    await p.evaluate('new Promise((done) => setTimeout(done, 100))');
    assert.equal(await p.locator('#head-map-offer').count(), 0);
  } finally {
    await browser.close();
  }
});

test('exports follow what is shown: the head on screen names the file, JSON holds arrays, charts (the line view too) carry a title; the header names the model and the text', async () => {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const text = 'the quick brown fox jumps over the lazy dog.';
  const capture = await m.capture({ text });
  const summary = { ...captureSummary(m.info.path, capture, analyzeCapture(capture)), source: { model: m.info.path, text } };
  const browser = await launch();
  try {
    const p = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await p.goto(`file://${standInPage()}`);
    await p.waitForFunction('window.sent.length > 0');
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary })}, '*')`);
    await p.waitForSelector('#view[data-ready="overview"]');
    // The header: the model's folder (its path in the tooltip), the text (collapsible), and Run again with….
    assert.equal(await p.locator('header .model').innerText(), 'tiny-bert-mlm');
    assert.equal(await p.locator('header .model').getAttribute('title'), m.info.path);
    assert.equal(await p.locator('#analysed-text p').textContent(), text);
    await p.click('#run-again');
    assert.ok(await p.evaluate('window.sent.some((m) => m.type === "runAgain")'));
    // Answers every head request with its matrix, as the host does.
    await answerHeads(p, capture);
    await p.click('nav.tabs button[data-view="head"]');
    await p.waitForSelector('#view[data-ready="head"]');
    // layer 1, head 2 chosen in the pickers after the tab was built
    const choose = async (picker: number, value: string): Promise<void> => {
      await p.evaluate(`(() => { const d = document.querySelectorAll('vscode-dropdown')[${picker}]; d.value = '${value}'; d.dispatchEvent(new Event('change')); })()`);
    };
    await choose(0, '1');
    await choose(1, '2');
    await p.waitForFunction('window.sent.some((m) => m.method === "head" && m.params.layer === 1 && m.params.head === 2 && m.answered)');
    await p.waitForSelector('#view[data-ready="head"] #heatmap .main-svg');
    const exported = async (format: string): Promise<{ fileName: string; content: string; base64: boolean }> => {
      const before = (await p.evaluate('window.sent.filter((m) => m.type === "export").length')) as number;
      await p.click(`.exports button[data-export="${format}"]`);
      const e = (await (await p.waitForFunction(`window.sent.filter((m) => m.type === "export")[${before}]`)).jsonValue()) as { fileName: string; content: string; base64: boolean };
      assert.ok(isWebviewMessage(e), e.fileName);
      return e;
    };
    const json = await exported('json');
    assert.equal(json.fileName, 'head-1-2.json');
    const data = JSON.parse(json.content) as { layer: number; head: number; attention: number[][] };
    assert.deepEqual([data.layer, data.head], [1, 2]);
    assert.ok(Array.isArray(data.attention) && data.attention.every(Array.isArray), 'rows of numbers, not {"0": …}');
    assert.equal(data.attention.length, capture.tokens.length);
    assert.ok(Math.abs(data.attention[3].reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const svg = await exported('svg');
    assert.equal(svg.fileName, 'head-1-2.svg');
    const title = (svgText: string): string => svgText.match(/<text class="(?:gtitle|title)"[^>]*>([^<]*)</)?.[1] ?? 'no title';
    assert.match(title(svg.content), /^tiny-bert-mlm · “the quick brown fox jumps over the lazy dog\.” · layer 1 \([^)]*\) · head 2$/);
    const png = await exported('png');
    assert.equal(png.fileName, 'head-1-2.png');
    assert.ok(png.base64 && png.content.startsWith('iVBOR'), 'a PNG');
    // The line view exports its own drawing, titled too.
    await p.click('#line-view');
    await p.waitForSelector('#heatmap svg.lines');
    const lines = await exported('svg');
    assert.equal(lines.fileName, 'head-1-2-lines.svg');
    assert.ok(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/.test(lines.content), 'a standalone SVG');
    assert.match(title(lines.content), /^tiny-bert-mlm · “the quick brown fox jumps over the lazy dog\.” · layer 1 \([^)]*\) · head 2$/);
    assert.ok((lines.content.match(/<line /g) ?? []).length > 0);
    const linesPng = await exported('png');
    assert.ok(linesPng.base64 && linesPng.content.startsWith('iVBOR') && linesPng.content.length > 1000, 'the line view as a PNG');
    // The overview's title names the statistic it is coloured by.
    await p.click('nav.tabs button[data-view="overview"]');
    await p.waitForSelector('#view[data-ready="overview"]');
    const overview = await exported('svg');
    assert.equal(overview.fileName, 'overview.svg');
    assert.match(title(overview.content), /every head coloured by entropy/);
  } finally {
    await browser.close();
  }
});
