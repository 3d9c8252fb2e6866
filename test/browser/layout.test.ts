// The panel as a reader meets it: every view of a 128-token text at 300, 600 and 1400 px in the
// light, dark and both high-contrast themes, with nothing out of reach, no tick labels overprinting
// or cut off, the colour map's low end apart from the page, text at WCAG's 4.5:1, tooltips inside
// the panel, ids on categorical colour bars; a theme change repaints every plot.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { captureSummary } from '../../src/analysis/captureViews';
import { efficientAttentionLab } from '../../src/analysis/efficientAttentionLab';
import { LoadedModel } from '../../src/model/capture';
import type { CaptureSummary } from '../../src/protocol';
import { randomBert } from '../../src/model/builder/randomBert';
import { plotCell } from '../helpers/overviewCell';
import { TINY_BERT } from '../helpers/paths';
import { launch, openPanel, showView } from './standInPage';
import { THEME_NAMES, ThemeName, setTheme } from './themes';

process.env.ORT_DISABLE_TELEMETRY = '1';
/** Screenshots for a person to look at; never committed. */
const SHOTS = process.env.ATTENTION_LENS_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'attention-lens-shots-'));
mkdirSync(SHOTS, { recursive: true });

const VIEWS = ['overview', 'model', 'head', 'token', 'spans', 'relative', 'rollout', 'methods', 'buckets'];
const WIDTHS = [300, 600, 1400];
// words of one WordPiece each, in an order that repeats rarely: the text runs past the model's 128 positions and is cut there
const WORDS = 'the quick brown fox jumps over a lazy dog while seven small birds sing in old green trees near the river bank and children play with red balls on warm summer days'.split(' ');
const TEXT = Array.from({ length: 160 }, (_, i) => WORDS[(i * 7) % WORDS.length]).join(' ');

async function longCapture() {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const capture = await m.capture({ text: TEXT, truncate: true, includeQueryKey: true });
  const summary = { ...captureSummary(m.info.path, capture, analyzeCapture(capture), efficientAttentionLab(capture, { head: { layer: 0, head: 1 } })), source: { model: m.info.path, text: TEXT } };
  return { capture, summary };
}

/** A random BERT of `layers` x `heads` run on `n` ids. */
async function randomCapture(layers: number, heads: number, n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'layout-'));
  writeFileSync(join(dir, 'model.onnx'), randomBert({ layers, heads, headDim: 8, hidden: 8 * heads, intermediate: 0, vocab: 271, maxPositions: 512, layerNorm: true }, `layout ${layers}x${heads}`).model);
  const m = await LoadedModel.load({ model: join(dir, 'model.onnx'), executionProvider: 'cpu' });
  const capture = await m.capture({ ids: Array.from({ length: n }, (_, i) => (i * 37) % 271) });
  return { capture, summary: captureSummary(m.info.path, capture, analyzeCapture(capture)) };
}

const pageErrors = new Map<Page, string[]>();

/** A panel page at `width` in `theme`, its errors kept for closed(). */
async function openedPanel(browser: Awaited<ReturnType<typeof launch>>, width: number, theme: ThemeName, data: { capture: AttentionCapture; summary: CaptureSummary }): Promise<Page> {
  const { page, errors } = await openPanel(browser, data, width, theme);
  pageErrors.set(page, errors);
  return page;
}

/** Closes a panel page that raised no error. */
async function closed(page: Page): Promise<void> {
  assert.deepEqual(pageErrors.get(page), []);
  await page.close();
}

test('every view at 300, 600 and 1400 px in light, dark and high contrast: reachable, labels apart and whole, colours and text in contrast, tooltips inside', async () => {
  const data = await longCapture();
  const n = data.capture.tokens.length;
  assert.equal(n, 128, 'the text fills the positions');
  const browser = await launch();
  try {
    for (const theme of THEME_NAMES) {
      for (const width of WIDTHS) {
        const page = await openedPanel(browser, width, theme, data);
        const where = `${theme} at ${width} px`;
        if (theme.startsWith('high-contrast')) {
          const look = (await page.evaluate('window.activeTabLook()')) as { active: string; other: string };
          assert.notEqual(look.active, look.other, `${where}: the active tab looks like the others`);
          assert.match(look.active, /solid/, `${where}: the active tab is outlined`);
        }
        for (const view of VIEWS) {
          await showView(page, view);
          await page.screenshot({ path: join(SHOTS, `panel-${theme}-${width}-${view}.png`), fullPage: true });
          assert.deepEqual(await page.evaluate('window.layoutProblems()'), [], `${where}, ${view}`);
          assert.deepEqual(await page.evaluate('window.contrastProblems()'), [], `${where}, ${view}`);
          if (view === 'overview') {
            const labels = (await page.evaluate(`window.pointLabelOverlaps('embedding')`)) as { shown: number; overlaps: string[] };
            assert.ok(labels.shown > 0, `${where}: some heads are labelled on the map`);
            assert.deepEqual(labels.overlaps, [], `${where}: head labels on the map`);
          }
          if (view === 'head') {
            // thinned labels, every token in the hover
            const axes = (await page.evaluate(`(() => { const el = document.getElementById('heatmap'); return { x: el.layout.xaxis.tickvals.length, y: el.layout.yaxis.tickvals.length, hover: el.data[0].text.flat().length }; })()`)) as { x: number; y: number; hover: number };
            assert.ok(axes.x > 4 && axes.x <= (width < 1400 ? n / 2 : n), `${where}: ${axes.x} key labels`);
            assert.equal(axes.hover, n * n);
            for (const [row, col] of [[0, n - 1], [n - 1, n - 1], [n - 1, 0]]) {
              const cell = await plotCell(page, 'heatmap', row, col);
              await page.mouse.move(cell.x, cell.y);
              const box = (await (await page.waitForSelector('#heatmap .hoverlayer .hovertext')).boundingBox())!;
              assert.ok(box.x >= 0 && box.x + box.width <= width + 1, `${where}: the tooltip of (${row}, ${col}) spans ${box.x.toFixed(0)}..${(box.x + box.width).toFixed(0)}`);
              if (row === n - 1 && col === n - 1) await page.screenshot({ path: join(SHOTS, `panel-${theme}-${width}-head-hover.png`) });
              await page.mouse.move(0, 0);
            }
          }
          if (view === 'buckets') {
            for (const id of ['lsh-buckets', 'routing-clusters']) {
              const bar = (await page.evaluate(`(() => { const el = document.getElementById('${id}'); return { ticks: el.data[0].colorbar.tickvals, drawn: [...el.querySelectorAll('.colorbar g[class$="tick"] > text')].map((t) => t.textContent), height: el.clientHeight }; })()`)) as { ticks: number[]; drawn: string[]; height: number };
              assert.ok(bar.ticks.length > 1 && bar.ticks.every(Number.isInteger), `${id}: ${bar.ticks}`);
              assert.ok(bar.drawn.length > 1 && bar.drawn.every((t) => /^\d+$/.test(t)), `${id}: ${bar.drawn}`);
              assert.ok(bar.height < 400, `${id}: ${bar.height} px for its rows`);
            }
          }
        }
        await closed(page);
      }
    }
  } finally {
    await browser.close();
  }
});

test('weights on 0-1 by default, the data range, square root and log on request, each said on the colour bar with ticks that name distinct values', async () => {
  const data = await longCapture();
  const browser = await launch();
  try {
    const page = await openedPanel(browser, 900, 'dark', data);
    await showView(page, 'head');
    const bar = async (): Promise<{ title: string; ticks: string[]; zmin: number; zmax: number }> =>
      (await page.evaluate(`(() => { const d = document.getElementById('heatmap').data[0]; return { title: d.colorbar.title.text, ticks: d.colorbar.ticktext, zmin: d.zmin, zmax: d.zmax }; })()`)) as { title: string; ticks: string[]; zmin: number; zmax: number };
    const choose = async (id: string, value: number): Promise<void> => {
      await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
      await page.evaluate(`(() => { const d = document.querySelector('#${id} vscode-dropdown'); d.value = '${value}'; d.dispatchEvent(new Event('change')); })()`);
      await page.waitForSelector('#view[data-ready="head"]');
    };
    const fixed = await bar();
    assert.deepEqual([fixed.zmin, fixed.zmax], [0, 1]);
    assert.match(fixed.title, /weight<br>0 to 1/);
    assert.deepEqual(fixed.ticks, ['0', '0.25', '0.5', '0.75', '1']);
    await choose('color-range', 1);
    const ranged = await bar();
    assert.match(ranged.title, /data's range/);
    assert.ok(ranged.zmax < 1 && new Set(ranged.ticks).size === ranged.ticks.length, ranged.ticks.join());
    await choose('color-range', 0);
    await choose('color-curve', 1);
    const root = await bar();
    assert.match(root.title, /√ scale/);
    assert.ok(root.ticks.length >= 3 && new Set(root.ticks).size === root.ticks.length, root.ticks.join());
    await choose('color-curve', 2);
    const log = await bar();
    assert.match(log.title, /log scale<br>0\.0001 to 1/);
    assert.deepEqual(log.ticks, ['0.0001', '0.001', '0.01', '0.1', '1']);
    // the hover still says the weight itself
    assert.match((await page.evaluate(`document.getElementById('heatmap').data[0].hovertemplate`)) as string, /customdata/);
    await page.screenshot({ path: join(SHOTS, 'panel-dark-900-head-log.png') });
    assert.equal(((await page.evaluate('window.savedState')) as { colorCurve: string }).colorCurve, 'log', 'kept for a reload');
    await closed(page);
  } finally {
    await browser.close();
  }
});

test("a theme change repaints every plot in the new theme's colours, the head from what the panel holds", async () => {
  const data = await longCapture();
  const browser = await launch();
  try {
    const page = await openedPanel(browser, 900, 'light', data);
    const backgrounds = async (): Promise<string[]> => (await page.evaluate(`[...document.querySelectorAll('#view .js-plotly-plot')].map((el) => getComputedStyle(el.querySelector('.main-svg')).backgroundColor)`)) as string[];
    const repainted = async (expected: string): Promise<void> => {
      await page.waitForFunction(`[...document.querySelectorAll('#view .js-plotly-plot')].every((el) => getComputedStyle(el.querySelector('.main-svg')).backgroundColor === '${expected}')`, undefined, { timeout: 10000 });
    };
    assert.ok((await backgrounds()).every((b) => b === 'rgb(255, 255, 255)'));
    await setTheme(page, 'dark');
    await repainted('rgb(31, 31, 31)');
    assert.deepEqual(await page.evaluate('window.contrastProblems()'), []);
    await page.screenshot({ path: join(SHOTS, 'panel-repaint-light-to-dark-overview.png') });
    await showView(page, 'head');
    const asked = (await page.evaluate('window.sent.filter((m) => m.method === "head").length')) as number;
    await setTheme(page, 'high-contrast');
    await repainted('rgb(0, 0, 0)');
    assert.deepEqual(await page.evaluate('window.contrastProblems()'), []);
    assert.equal(await page.evaluate('window.sent.filter((m) => m.method === "head").length'), asked, 'no head asked again');
    await page.screenshot({ path: join(SHOTS, 'panel-repaint-dark-to-high-contrast-head.png') });
    await closed(page);
  } finally {
    await browser.close();
  }
});

test('144 heads: their labels on the head map never overlap; 512 tokens: the tiled head and a zoom into it keep their labels apart', async () => {
  const many = await randomCapture(12, 12, 48);
  const long = await randomCapture(1, 2, 512);
  const browser = await launch();
  try {
    for (const width of WIDTHS) {
      const page = await openedPanel(browser, width, 'dark', many);
      const labels = (await page.evaluate(`window.pointLabelOverlaps('embedding')`)) as { shown: number; overlaps: string[] };
      assert.ok(labels.shown >= 5 && labels.shown < 144, `${width} px: ${labels.shown} of 144 heads labelled`);
      assert.deepEqual(labels.overlaps, [], `${width} px`);
      assert.deepEqual(await page.evaluate('window.layoutProblems()'), [], `${width} px`);
      await page.screenshot({ path: join(SHOTS, `panel-144-heads-dark-${width}-overview.png`), fullPage: true });
      await closed(page);
    }
    const page = await openedPanel(browser, 600, 'light', long);
    await showView(page, 'head');
    assert.deepEqual(await page.evaluate('window.layoutProblems()'), []);
    await page.screenshot({ path: join(SHOTS, 'panel-512-tokens-light-600-head.png') });
    // a zoom to 100 x 100 tokens: exact cells, labels again thinned to what fits
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.evaluate(`document.getElementById('heatmap').emit('plotly_relayout', { 'xaxis.range[0]': 200, 'xaxis.range[1]': 299, 'yaxis.range[0]': 299, 'yaxis.range[1]': 200 })`);
    await page.waitForFunction(`document.getElementById('heatmap').data[0].dx === 1 && document.getElementById('heatmap').layout.xaxis.tickvals?.length > 0`, undefined, { timeout: 30000 });
    await page.waitForSelector('#view[data-ready="head"]');
    assert.deepEqual(await page.evaluate('window.layoutProblems()'), []);
    const ticks = (await page.evaluate(`document.getElementById('heatmap').layout.xaxis.tickvals`)) as number[];
    assert.ok(ticks.length > 5 && ticks.length < 100 && ticks[0] >= 200, ticks.join());
    await page.screenshot({ path: join(SHOTS, 'panel-512-tokens-light-600-head-zoomed.png') });
    await closed(page);
  } finally {
    await browser.close();
  }
});
