// The model and token views in Chromium, fed by the host's functions: a thumbnail per head that
// opens its head, a token's row and column in every head with the token outlined, exports of
// plain arrays; 144 heads of 128 tokens fit 300 px, and read in every theme at 600 px.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { captureSummary, tokenRows } from '../../src/analysis/captureViews';
import { randomBert } from '../../src/model/builder/randomBert';
import { LoadedModel } from '../../src/model/capture';
import type { CaptureSummary } from '../../src/protocol';
import { TINY_BERT } from '../helpers/paths';
import { launch, openPanel, showView } from './standInPage';
import type { ThemeName } from './themes';

process.env.ORT_DISABLE_TELEMETRY = '1';
const SHOTS = process.env.ATTENTION_LENS_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'attention-lens-views-'));
mkdirSync(SHOTS, { recursive: true });

type Captured = { capture: AttentionCapture; summary: CaptureSummary };

async function tinyCapture(): Promise<Captured> {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const capture = await m.capture({ text: 'the quick brown fox jumps over the lazy dog.' });
  return { capture, summary: captureSummary(m.info.path, capture, analyzeCapture(capture)) };
}

/** A random BERT of 12 x 12 heads run on 128 ids: bertviz's base model at a long text. */
async function wideCapture(): Promise<Captured> {
  const dir = mkdtempSync(join(tmpdir(), 'views-'));
  writeFileSync(join(dir, 'model.onnx'), randomBert({ layers: 12, heads: 12, headDim: 8, hidden: 96, intermediate: 0, vocab: 271, maxPositions: 512, layerNorm: true }, 'views 12x12').model);
  const m = await LoadedModel.load({ model: join(dir, 'model.onnx'), executionProvider: 'cpu' });
  const capture = await m.capture({ ids: Array.from({ length: 128 }, (_, i) => (i * 37) % 271) });
  return { capture, summary: captureSummary(m.info.path, capture, analyzeCapture(capture)) };
}

/** The thumbnails drawn: each [layer, head] block of the model view's cells that holds a value. */
const drawnThumbnails = (page: Page): Promise<[number, number][]> =>
  page.evaluate(`(() => {
    const el = document.getElementById('model-view');
    const [rows, cols, gap] = [el.dataset.thumbnailRows, el.dataset.thumbnailCols, el.dataset.thumbnailGap].map(Number);
    const z = el.data[0].z;
    const found = new Set();
    z.forEach((row, y) => row.forEach((v, x) => {
      if (v !== null && y % (rows + gap) < rows && x % (cols + gap) < cols) found.add(Math.floor(y / (rows + gap)) + ',' + Math.floor(x / (cols + gap)));
    }));
    return [...found].map((k) => k.split(',').map(Number));
  })()`);

/** Clicks the middle of a thumbnail, where the page shows it. */
async function clickThumbnail(page: Page, layer: number, head: number): Promise<void> {
  const at = (await page.evaluate(`(() => {
    const el = document.getElementById('model-view');
    const [rows, cols, gap] = [el.dataset.thumbnailRows, el.dataset.thumbnailCols, el.dataset.thumbnailGap].map(Number);
    const { xaxis, yaxis } = el._fullLayout;
    const box = el.getBoundingClientRect();
    return { x: box.left + xaxis._offset + xaxis.l2p(${head} * (cols + gap) + (cols - 1) / 2), y: box.top + yaxis._offset + yaxis.l2p(${layer} * (rows + gap) + (rows - 1) / 2) };
  })()`)) as { x: number; y: number };
  await page.mouse.click(at.x, at.y);
}

/** The token view's rows that hold values (one per head), and the outline of the token. */
const drawnRows = (page: Page): Promise<{ rows: number[][]; outlined: number[] }> =>
  page.evaluate(`(() => {
    const el = document.getElementById('token-view');
    return { rows: el.data[0].customdata.filter((row) => row.some((v) => v !== null)), outlined: (el.layout.shapes ?? []).map((s) => (s.x0 + s.x1) / 2) };
  })()`);

const pick = (page: Page, id: string, value: number): Promise<void> =>
  page.evaluate(`(() => { const d = document.querySelector('#${id} vscode-dropdown'); d.value = '${value}'; d.dispatchEvent(new Event('change')); })()`);

test('the model view: a thumbnail per head from one window request; a click opens that head in the Head tab', async () => {
  const data = await tinyCapture();
  const browser = await launch();
  try {
    const { page, errors } = await openPanel(browser, data, 1000, 'light');
    await showView(page, 'model');
    const requests = (await page.evaluate('window.sent.filter((m) => m.method === "window").map((m) => m.params)')) as object[];
    assert.deepEqual(requests, [{ q0: 0, q1: data.capture.tokens.length, k0: 0, k1: data.capture.tokens.length, maxCells: 64 }]);
    const heads = data.capture.layers.flatMap((l, layer) => Array.from({ length: l.heads }, (_, head) => [layer, head]));
    assert.deepEqual((await drawnThumbnails(page)).sort((a, b) => a[0] - b[0] || a[1] - b[1]), heads);
    const last = heads.at(-1)!;
    await clickThumbnail(page, last[0], last[1]);
    await page.waitForSelector('#view[data-ready="head"]', { timeout: 30000 });
    assert.equal(await page.locator('nav.tabs button.active').getAttribute('data-view'), 'head');
    const asked = (await page.evaluate('window.sent.findLast((m) => m.method === "head").params')) as { layer: number; head: number };
    assert.deepEqual([asked.layer, asked.head], last);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("the token view: a chosen token's row, then its column, in every head, the token outlined; JSON of plain arrays", async () => {
  const data = await tinyCapture();
  const heads = data.capture.layers.reduce((a, l) => a + l.heads, 0);
  const browser = await launch();
  try {
    const { page, errors } = await openPanel(browser, data, 1000, 'light');
    await showView(page, 'token');
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await pick(page, 'token-picker', 3);
    await page.waitForSelector('#view[data-ready="token"]', { timeout: 30000 });
    const row = await drawnRows(page);
    const expected = tokenRows(data.capture, 3, 'query', 'source').layers.flatMap((l) => Array.from({ length: l.heads }, (_, h) => Array.from(l.values.subarray(h * l.length, (h + 1) * l.length))));
    assert.equal(row.rows.length, heads);
    row.rows.forEach((r, i) => r.forEach((v, k) => assert.ok(Math.abs(v - expected[i][k]) < 1e-6, `head row ${i}, key ${k}`)));
    assert.deepEqual(row.outlined, [3]);
    assert.match((await page.locator('.chart-title').textContent()) ?? '', /“\S+” \(token 3\) attends to/);
    // attended by: every query's weight on token 3, which differs from its own row
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await pick(page, 'token-side', 1);
    await page.waitForSelector('#view[data-ready="token"]', { timeout: 30000 });
    const column = await drawnRows(page);
    assert.equal(column.rows.length, heads);
    assert.deepEqual(column.outlined, [3]);
    const l0 = data.capture.layers[0];
    assert.ok(Math.abs(column.rows[0][5] - l0.probs[5 * l0.keys + 3]) < 1e-6);
    assert.notDeepEqual(column.rows, row.rows);
    // a click on a token of the rows opens it
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    const at = (await page.evaluate(`(() => { const el = document.getElementById('token-view'); const { xaxis, yaxis } = el._fullLayout; const box = el.getBoundingClientRect(); return { x: box.left + xaxis._offset + xaxis.l2p(6), y: box.top + yaxis._offset + yaxis.l2p(1) }; })()`)) as { x: number; y: number };
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#view[data-ready="token"]', { timeout: 30000 });
    assert.deepEqual((await drawnRows(page)).outlined, [6]);
    await page.click('.exports button[data-export="json"]');
    const exported = JSON.parse(((await (await page.waitForFunction('window.sent.find((m) => m.type === "export")')).jsonValue()) as { content: string }).content);
    assert.deepEqual([exported.token, exported.side, exported.text], [6, 'key', 'source']);
    assert.equal(exported.layers.length, data.capture.layers.length);
    assert.ok(exported.layers.every((l: { heads: unknown }) => Array.isArray(l.heads) && (l.heads as unknown[]).every((h) => Array.isArray(h) && h.length === data.capture.tokens.length)));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('144 heads of 128 tokens: both views fit 300 px, labels apart; at 600 px in light, dark and high contrast', async () => {
  const data = await wideCapture();
  const browser = await launch();
  try {
    for (const [width, theme] of [[300, 'light'], [600, 'light'], [600, 'dark'], [600, 'high-contrast']] as [number, ThemeName][]) {
      const { page, errors } = await openPanel(browser, data, width, theme);
      for (const view of ['model', 'token']) {
        await showView(page, view);
        const mine = ((await page.evaluate('window.layoutProblems()')) as string[]).filter((p) => /^(model-view|token-view|the page)/.test(p));
        assert.deepEqual(mine, [], `${view} at ${width} px, ${theme}`);
        assert.deepEqual(((await page.evaluate('window.contrastProblems()')) as string[]).filter((p) => /^(model-view|token-view)/.test(p)), []);
        if (view === 'model') assert.equal((await drawnThumbnails(page)).length, 144);
        else assert.equal((await drawnRows(page)).rows.length, 144);
        await page.screenshot({ path: join(SHOTS, `${view}-${width}-${theme}.png`), fullPage: true });
      }
      assert.deepEqual(errors, []);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
