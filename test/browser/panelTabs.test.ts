// The attention panel's own controls in Chromium: the line view's overlaid heads, the lab run from
// the Methods tab, the Buckets tab's head chosen and asked of the host, and tokens that open the
// token view from the analysed text and from a heatmap's cell.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { captureSummary } from '../../src/analysis/captureViews';
import { efficientAttentionLab, headBuckets } from '../../src/analysis/efficientAttentionLab';
import { LoadedModel } from '../../src/model/capture';
import type { CaptureSummary } from '../../src/protocol';
import { TINY_BERT } from '../helpers/paths';
import { launch, openPanel, showView } from './standInPage';

process.env.ORT_DISABLE_TELEMETRY = '1';
const TEXT = 'the quick brown fox jumps over the lazy dog.';

async function tinyCapture(lab: boolean): Promise<{ capture: AttentionCapture; summary: CaptureSummary }> {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const capture = await m.capture({ text: TEXT, includeQueryKey: lab });
  const summary = captureSummary(m.info.path, capture, analyzeCapture(capture), lab ? efficientAttentionLab(capture, { head: { layer: 0, head: 1 } }) : undefined);
  return { capture, summary: { ...summary, source: { model: m.info.path, text: TEXT } } };
}

const sentOf = (page: Page, filter: string): Promise<unknown[]> => page.evaluate(`window.sent.filter((m) => ${filter})`);

test('the line view overlays the heads chosen, each in its colour, and keeps them in the state', async () => {
  const data = await tinyCapture(false);
  const browser = await launch();
  try {
    const { page, errors } = await openPanel(browser, data);
    await showView(page, 'head');
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.check('#line-view');
    await page.waitForSelector('#view[data-ready="head"]');
    assert.equal(await page.locator('#heatmap svg.lines text.legend').count(), 0, 'one head: no legend');
    for (const h of [1, 3]) {
      await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
      await page.check(`#overlay-head-${h}`);
      await page.waitForSelector('#view[data-ready="head"]');
    }
    const drawn = (await page.evaluate(`(() => {
      const lines = [...document.querySelectorAll('#heatmap svg.lines line')];
      const byHead = {};
      for (const l of lines) (byHead[l.dataset.head] ??= new Set()).add(l.getAttribute('stroke'));
      return { heads: Object.keys(byHead).sort(), strokes: Object.fromEntries(Object.entries(byHead).map(([h, s]) => [h, [...s]])), legend: [...document.querySelectorAll('#heatmap svg.lines text.legend')].map((t) => t.textContent) };
    })()`)) as { heads: string[]; strokes: Record<string, string[]>; legend: string[] };
    assert.deepEqual(drawn.heads, ['0', '1', '3']);
    assert.deepEqual(drawn.legend, ['head 0', 'head 1', 'head 3']);
    // one colour per head, and no two heads alike
    assert.ok(Object.values(drawn.strokes).every((s) => s.length === 1));
    assert.equal(new Set(Object.values(drawn.strokes).map((s) => s[0])).size, 3);
    const heads = await sentOf(page, `m.type === 'request' && m.method === 'head'`);
    assert.deepEqual((heads as { params: { head: number } }[]).slice(-3).map((r) => r.params.head), [0, 1, 3], 'the shown head, then the overlaid ones in turn');
    assert.deepEqual(((await page.evaluate('window.savedState')) as { lineHeads: number[] }).lineHeads, [1, 3]);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('without the lab, Methods and Buckets offer to run it; the button asks the host', async () => {
  const data = await tinyCapture(false);
  const browser = await launch();
  try {
    const { page, errors } = await openPanel(browser, data);
    await showView(page, 'buckets');
    assert.match((await page.locator('#lab-offer').textContent()) ?? '', /LSH buckets and routing clusters come from the efficient-attention lab/);
    await showView(page, 'methods');
    await page.click('#run-lab');
    assert.equal((await sentOf(page, `m.type === 'runLab'`)).length, 1);
    assert.equal(await page.locator('#run-lab').textContent(), 'Running the lab…');
    // the host's answer: the same text with the lab, drawn where the user is
    const lab = captureSummary('', data.capture, undefined, efficientAttentionLab(data.capture)).lab;
    const withLab = { ...data.summary, lab, source: { ...data.summary.source!, lab: {} } };
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary: withLab })}, '*')`);
    await page.waitForSelector('#view[data-ready="methods"] #methods-bars .main-svg');
    assert.deepEqual(((await page.evaluate('window.savedState')) as { source: { lab?: object } }).source.lab, {}, 'the lab is kept with the source, for a reload to run it again');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("the Buckets tab opens on the lab's head and asks the host for any other, drawn when it comes; methods are named in words", async () => {
  const data = await tinyCapture(true);
  const browser = await launch();
  try {
    const { page, errors } = await openPanel(browser, data);
    await showView(page, 'methods');
    const names = (await page.evaluate(`document.getElementById('methods-bars').data[0].x`)) as string[];
    assert.ok(names.includes('LSH, separate Q/K') && names.includes('adaptive span') && names.includes('routing clusters'), names.join(', '));
    await showView(page, 'buckets');
    assert.equal((await sentOf(page, `m.type === 'request' && m.method === 'buckets'`)).length, 0, "the lab's head needs no request");
    const lshTitle = async () => page.locator('#view p.chart-title >> nth=0').textContent();
    assert.match((await lshTitle()) ?? '', /LSH buckets, head 0\.1/);
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.evaluate(`(() => { const d = document.querySelectorAll('#view .controls vscode-dropdown')[1]; d.value = '3'; d.dispatchEvent(new Event('change')); })()`);
    const [asked] = (await sentOf(page, `m.type === 'request' && m.method === 'buckets'`)) as { id: number; params: { layer: number; head: number } }[];
    assert.deepEqual(asked.params, { layer: 0, head: 3 });
    const b = headBuckets(data.capture, 0, 3);
    await page.evaluate(`window.postMessage(${JSON.stringify({ type: 'reply', id: asked.id, method: 'buckets', result: b })}, '*')`);
    await page.waitForSelector('#view[data-ready="buckets"]');
    assert.match((await lshTitle()) ?? '', /LSH buckets, head 0\.3/);
    const z = (await page.evaluate(`document.getElementById('lsh-buckets').data[0].z`)) as number[][];
    assert.deepEqual(z, b!.lsh);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("a token of the analysed text, or a heatmap's cell, opens the token view on that token", async () => {
  const data = await tinyCapture(false);
  const browser = await launch();
  try {
    const { page, errors } = await openPanel(browser, data);
    await page.click('#analysed-text summary');
    const fox = data.summary.tokens.indexOf('fox');
    assert.equal(await page.locator(`.text-token[data-token="${fox}"]`).textContent(), 'fox');
    await page.click(`.text-token[data-token="${fox}"]`);
    await page.waitForSelector('#view[data-ready="token"]');
    const rowRequests = async () => ((await sentOf(page, `m.type === 'request' && m.method === 'tokenRow'`)) as { params: object }[]).at(-1)?.params;
    assert.deepEqual(await rowRequests(), { token: fox, side: 'query', text: 'source' });
    await showView(page, 'head');
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.evaluate(`document.getElementById('heatmap').emit('plotly_click', { points: [{ x: 2, y: 5 }], event: { shiftKey: true } })`);
    await page.waitForSelector('#view[data-ready="token"]');
    assert.deepEqual(await rowRequests(), { token: 2, side: 'key', text: 'source' });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
