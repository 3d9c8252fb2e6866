// The compare panel's page in Chromium under the VS Code stand-in: two synthetic captures, their
// pair of tiles answered as the host does, and what the panel draws measured in the page (the
// difference's values, the statistic grid's colours as pixels on screen).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import type { AttentionCapture } from '../../src/analysis/attentionCapture';
import { captureSummary, headMatrix, headTile } from '../../src/analysis/captureViews';
import { randomAttention, randomCapture } from '../../src/analysis/syntheticAttention';
import { CaptureSummary, PanelRequest, isWebviewMessage } from '../../src/protocol';
import { plotCell } from '../helpers/overviewCell';
import { launch, standInPage } from './standInPage';
import { THEME_NAMES, ThemeName, setTheme } from './themes';

const SHOTS = process.env.ATTENTION_LENS_SCREENSHOTS;

const capture = (seed: string, heads: number[], n: number): AttentionCapture => randomCapture(heads.map((h, i) => randomAttention(`${seed}-${i}`, h, n)));
const summary = (c: AttentionCapture, model: string, text: string): CaptureSummary => ({ ...captureSummary(model, c, analyzeCapture(c)), source: { model, text } });

/** The capture with layer 0's heads 0 and 1 swapped: every statistic's difference is d in one head, −d in the other, 0 elsewhere. */
function swapped(c: AttentionCapture): AttentionCapture {
  const l = c.layers[0];
  const size = l.queries * l.keys;
  const probs = l.probs.slice();
  probs.set(l.probs.subarray(size, 2 * size), 0);
  probs.set(l.probs.subarray(0, size), size);
  return { ...c, layers: [{ ...l, probs }, ...c.layers.slice(1)] };
}

/** Replies to every pair request from the two captures, as the compare panel's host does. */
async function answerPairs(p: Page, first: AttentionCapture, second: AttentionCapture): Promise<void> {
  await p.exposeFunction('pairOf', (r: PanelRequest<'pair'>) => {
    assert.ok(isWebviewMessage(r), 'the request passes the host check');
    const tile = (c: AttentionCapture) => {
      const { values, ...shape } = headTile(c, r.params.layer, r.params.head, r.params.q0, r.params.q1, r.params.k0, r.params.k1, r.params.maxCells)!;
      return { ...shape, values: Array.from(values) };
    };
    return { first: tile(first), second: tile(second) };
  });
  await p.evaluate(`setInterval(async () => {
    const r = window.sent.find((m) => m.type === 'request' && m.method === 'pair' && !m.answered);
    if (!r) return;
    r.answered = true;
    const { answered, ...request } = r;
    const t = await window.pairOf(request);
    const typed = (x) => ({ ...x, values: new Float32Array(x.values) });
    window.postMessage({ type: 'reply', id: r.id, method: 'pair', result: { first: typed(t.first), second: typed(t.second) } }, '*');
  }, 20)`);
}

/** A page showing the comparison of `first` with `second`, in `theme`, `width` px wide. */
async function comparePage(browser: Awaited<ReturnType<typeof launch>>, compare: { first: CaptureSummary; second: CaptureSummary }, captures: [AttentionCapture, AttentionCapture], theme: ThemeName = 'light', width = 1000): Promise<Page> {
  const p = await browser.newPage({ viewport: { width, height: 900 } });
  await p.goto(`file://${standInPage()}`);
  await p.waitForFunction('window.sent.length > 0');
  await setTheme(p, theme);
  await answerPairs(p, ...captures);
  await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'compare', compare })}, '*')`);
  return p;
}

/** The colour drawn at a point of the page, read from a screenshot of that pixel. */
async function pixel(p: Page, at: { x: number; y: number }): Promise<[number, number, number]> {
  const png = (await p.screenshot({ clip: { x: Math.round(at.x), y: Math.round(at.y), width: 1, height: 1 } })).toString('base64');
  return (await p.evaluate(`(async () => {
    const image = new Image();
    image.src = 'data:image/png;base64,${png}';
    await image.decode();
    const g = document.createElement('canvas').getContext('2d');
    g.drawImage(image, 0, 0);
    return Array.from(g.getImageData(0, 0, 1, 1).data.slice(0, 3));
  })()`)) as [number, number, number];
}

const luminance = (c: number[]): number => {
  const [r, g, b] = c.map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a: number[], b: number[]): number => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

const pickRange = async (p: Page, key: 'fixed' | 'data'): Promise<void> =>
  void (await p.evaluate(`(() => { const d = document.querySelector('#color-range vscode-dropdown'); d.value = '${key === 'fixed' ? 0 : 1}'; d.dispatchEvent(new Event('change')); })()`));

test('the difference heatmap is first − second, and a grid cell picks its head', async () => {
  const [a, b] = [capture('a', [2, 2], 12), capture('b', [2, 2], 12)];
  const compare = { first: summary(a, '/models/bert/model.onnx', 'the quick brown fox'), second: summary(b, '/models/bert/model.onnx', 'a lazy dog sleeps') };
  const browser = await launch();
  try {
    const p = await comparePage(browser, compare, [a, b]);
    await p.waitForSelector('#view[data-ready="compare"]');
    assert.match(await p.locator('header').innerText(), /Comparing bert “the quick brown fox” with bert “a lazy dog sleeps” · the same model on two texts · 2 layers, 4 heads/);
    const z = (await p.evaluate(`document.getElementById('compare-difference').data[0].z`)) as number[][];
    const [ma, mb] = [headMatrix(a, 0, 0)!, headMatrix(b, 0, 0)!];
    assert.equal(z.length, 12);
    z.forEach((row, q) => row.forEach((v, k) => assert.equal(v, ma.probs[q * 12 + k] - mb.probs[q * 12 + k], `cell ${q}, ${k}`)));
    const drawn = (await p.evaluate(`document.getElementById('compare-difference').data[0]`)) as { zmin: number; zmax: number };
    assert.deepEqual([drawn.zmin, drawn.zmax], [-1, 1], 'weight differences over -1..1 first');
    // the grid's cell of layer 1, head 1 shows that head
    await p.locator('#compare-stats').scrollIntoViewIfNeeded();
    const cell = await plotCell(p, 'compare-stats', 1, 1);
    await p.mouse.click(cell.x, cell.y);
    await p.waitForFunction('window.sent.some((m) => m.method === "pair" && m.params.layer === 1 && m.params.head === 1)');
    await p.waitForSelector('#view[data-ready="compare"]');
    const z11 = (await p.evaluate(`document.getElementById('compare-difference').data[0].z[3][5]`)) as number;
    assert.equal(z11, headMatrix(a, 1, 1)!.probs[3 * 12 + 5] - headMatrix(b, 1, 1)!.probs[3 * 12 + 5]);
    assert.match(await p.locator('.chart-title').first().innerText(), /layer 1 .* head 1/);
    // the JSON export holds the difference as plain arrays
    await p.click('.exports button[data-export="json"] >> nth=0');
    const exported = (await (await p.waitForFunction('window.sent.find((m) => m.type === "export")')).jsonValue()) as { fileName: string; content: string };
    assert.equal(exported.fileName, 'compare-1-1.json');
    const json = JSON.parse(exported.content) as { difference: number[][] };
    assert.equal(json.difference[3][5], z11);
  } finally {
    await browser.close();
  }
});

test('the statistic grid shows differences on the diverging map: both ends apart from each other and from the page in every theme', async () => {
  const a = capture('a', [2, 2], 12);
  const b = swapped(a);
  const compare = { first: summary(a, '/models/bert-base/model.onnx', 'the quick brown fox'), second: summary(b, '/models/bert-tuned/model.onnx', 'the quick brown fox') };
  const browser = await launch();
  try {
    const p = await comparePage(browser, compare, [a, b]);
    await p.waitForSelector('#compare-stats[data-ready="stats"]');
    assert.match(await p.locator('header').innerText(), /two models with the same layers and heads/);
    await pickRange(p, 'data');
    for (const theme of THEME_NAMES) {
      await setTheme(p, theme);
      await p.waitForSelector('#compare-stats[data-ready="stats"]');
      await p.locator('#compare-stats').scrollIntoViewIfNeeded();
      const trace = (await p.evaluate(`document.getElementById('compare-stats').data[0]`)) as { z: (number | null)[][]; zmin: number; zmax: number };
      const cells = trace.z.flatMap((row, l) => row.map((v, h) => ({ v, l, h }))).filter((c) => c.v !== null) as { v: number; l: number; h: number }[];
      const low = cells.reduce((m, c) => (c.v < m.v ? c : m));
      const high = cells.reduce((m, c) => (c.v > m.v ? c : m));
      assert.ok(low.v < 0 && high.v > 0 && Math.abs(low.v + high.v) < 1e-9, `the swapped heads differ by ±d (${low.v}, ${high.v})`);
      assert.deepEqual([trace.zmin, trace.zmax], [low.v, high.v], "the data's symmetric range");
      const background = (await p.evaluate(`getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)`)) as number[];
      const [negative, positive] = [await pixel(p, await plotCell(p, 'compare-stats', low.l, low.h)), await pixel(p, await plotCell(p, 'compare-stats', high.l, high.h))];
      assert.ok(contrast(negative, background) >= 3, `${theme}: the most negative cell ${negative} at ${contrast(negative, background).toFixed(2)}:1 against the page`);
      assert.ok(contrast(positive, background) >= 3, `${theme}: the most positive cell ${positive} at ${contrast(positive, background).toFixed(2)}:1 against the page`);
      // the ends of a diverging map are alike in lightness by design: they differ in hue, blue against red
      assert.ok(negative[2] - negative[0] > 60 && positive[0] - positive[2] > 60, `${theme}: negative blue ${negative}, positive red ${positive}`);
      // no difference is the map's neutral midpoint, apart from the page too
      const zero = cells.find((c) => c.v === 0)!;
      const grey = await pixel(p, await plotCell(p, 'compare-stats', zero.l, zero.h));
      assert.ok(Math.max(...grey) - Math.min(...grey) < 12 && contrast(grey, background) >= 1.3, `${theme}: a difference of 0 is grey, seen against the page (${grey})`);
      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await p.screenshot({ path: join(SHOTS, `compare-${theme}-1000.png`), fullPage: true });
      }
    }
  } finally {
    await browser.close();
  }
});

test('captures of other layers or heads get one line saying what differs, and nothing else', async () => {
  const [a, b] = [capture('a', [2, 2], 12), capture('b', [2, 2, 2], 12)];
  const browser = await launch();
  try {
    const p = await comparePage(browser, { first: summary(a, '/m/a.onnx', 'one text'), second: summary(b, '/m/b.onnx', 'another text') }, [a, b]);
    await p.waitForSelector('#app .warning');
    assert.equal(await p.locator('#app .warning').innerText(), 'These captures cannot be compared head by head: the first capture has 2 layers, the second 3.');
    assert.deepEqual(await p.evaluate(`[...document.getElementById('app').children].map((e) => e.tagName)`), ['HEADER', 'P']);
    await p.evaluate('new Promise((done) => setTimeout(done, 200))');
    assert.equal(await p.evaluate('window.sent.some((m) => m.type === "request")'), false, 'no head is asked for');
  } finally {
    await browser.close();
  }
});

test('heads of different token counts are both drawn, with a note in place of the difference', async () => {
  const [a, b] = [capture('a', [2], 12), capture('b', [2], 17)];
  const browser = await launch();
  try {
    const p = await comparePage(browser, { first: summary(a, '/m/a.onnx', 'a short text'), second: summary(b, '/m/a.onnx', 'a longer text than the first') }, [a, b]);
    await p.waitForSelector('#view[data-ready="compare"]');
    assert.equal(await p.locator('#compare-difference').count(), 0);
    assert.match(await p.locator('#view .note').first().innerText(), /No cell-wise difference: the heads have different token counts \(12 tokens in the first capture, 17 tokens in the second\)/);
    const shapes = (await p.evaluate(`['compare-first', 'compare-second'].map((id) => document.getElementById(id).data[0].z.length)`)) as number[];
    assert.deepEqual(shapes, [12, 17]);
    assert.equal(await p.locator('#compare-stats .main-svg').count() > 0, true, 'the statistics still differ head by head');
  } finally {
    await browser.close();
  }
});

test('long heads are compared from tiles, their difference block by block; a closed panel leaves a notice', async () => {
  const [a, b] = [capture('a', [1], 300), capture('b', [1], 300)];
  const browser = await launch();
  try {
    const p = await comparePage(browser, { first: summary(a, '/m/a.onnx', 'one'), second: summary(b, '/m/a.onnx', 'two') }, [a, b]);
    await p.waitForSelector('#view[data-ready="compare"]');
    const asked = (await p.evaluate('window.sent.find((m) => m.method === "pair").params')) as Record<string, number>;
    assert.deepEqual(asked, { layer: 0, head: 0, q0: 0, q1: 300, k0: 0, k1: 300, maxCells: 256 });
    const [ta, tb] = [headTile(a, 0, 0, 0, 300, 0, 300, 256)!, headTile(b, 0, 0, 0, 300, 0, 300, 256)!];
    const z = (await p.evaluate(`document.getElementById('compare-difference').data[0].z`)) as number[][];
    assert.equal(z.length, ta.rows);
    assert.equal(z[7][9], ta.values[7 * ta.cols + 9] - tb.values[7 * tb.cols + 9]);
    await p.evaluate(`window.postMessage({ type: 'notice', message: 'Attention: a · one was closed: its capture is gone.' }, '*')`);
    await p.waitForFunction(`document.getElementById('app').innerText.includes('its capture is gone')`);
    assert.equal(await p.locator('#view').count(), 0);
  } finally {
    await browser.close();
  }
});
