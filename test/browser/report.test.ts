// The standalone report in real Chromium (Debian's, driven by playwright-core), offline: every
// view renders, clicking a head in the overview opens its heatmap.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Page, chromium } from 'playwright-core';
import { inductionDecoder } from '../../src/model/builder/inductionDecoder';
import { overviewCell, plotCell } from '../helpers/overviewCell';
import { CLI } from '../helpers/paths';

const CHROMIUM = process.env.ATTENTION_LENS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots for a person to look at; never committed. */
const SHOTS = process.env.ATTENTION_LENS_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'attention-lens-shots-'));

/** The report opened at its overview in the light and then the dark theme; the page may raise no error. */
async function inEachTheme(report: string, check: (page: Page, colorScheme: 'light' | 'dark') => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${report}`);
      await page.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
      await check(page, colorScheme);
      assert.deepEqual(errors, []);
      await page.close();
    }
  } finally {
    await browser.close();
  }
}

test('the standalone report renders every view offline, and the overview opens a head', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  const report = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', 'demo', '--text', 'The quick brown fox, the lazy dog. It jumps over the lazy fox, then the dog jumps.', '--lab', '--head', '1:2', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    await context.setOffline(true);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${report}`);
    await page.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
    assert.match(await page.textContent('header') ?? '', /23 tokens · 3 layers, 12 heads · ran on CPU/);
    assert.equal(await page.locator('#overview-grid .main-svg').count() > 0, true);
    assert.equal(await page.locator('#embedding .main-svg').count() > 0, true);
    await page.screenshot({ path: join(SHOTS, 'report-overview.png') });
    // The overview's data as CSV, and its chart as SVG, through the browser's downloads.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('.exports button[data-export="csv"]')]);
    assert.equal(csv.suggestedFilename(), 'overview.csv');
    const csvText = readFileSync((await csv.path())!, 'utf8');
    assert.match(csvText.split('\n')[0], /^layer,head,toCls,toSep,toPunct,toPrev,toNext,toSelf,toFirst,sinkMass,entropyNats/);
    assert.equal(csvText.trim().split('\n').length, 13);
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('.exports button[data-export="svg"]')]);
    assert.match(readFileSync((await svg.path())!, 'utf8'), /^<svg/);
    for (const view of ['spans', 'relative', 'methods', 'buckets']) {
      await page.click(`nav.tabs button[data-view="${view}"]`);
      await page.waitForSelector(`#view[data-ready="${view}"]`, { timeout: 30000 });
      await page.screenshot({ path: join(SHOTS, `report-${view}.png`) });
      if (view === 'methods') {
        assert.ok((await page.locator('#methods-bars .bar, #methods-bars .point').count()) > 0, 'method bars drawn');
        // at n = 23 the Sparse Transformer patterns cannot meet n sqrt n scores: hatched, after the ranked ones
        const bars = (await page.evaluate(`(() => { const d = document.getElementById('methods-bars').data; return { names: d[0].x, shapes: d[0].marker.pattern.shape, text: d[0].text, scores: d[1].y, name: d[1].name }; })()`)) as { names: string[]; shapes: string[]; text: string[]; scores: number[]; name: string };
        assert.equal(bars.names.length, 7, 'every method of the per-head table is in the chart');
        assert.equal(bars.name, 'scores computed per head');
        assert.equal(bars.scores.length, 7);
        const hatched = bars.shapes.flatMap((shape, i) => (shape === '/' ? [bars.names[i]] : []));
        assert.ok(hatched.includes('strided') && hatched.includes('adaptive span'), `hatched: ${hatched}`);
        assert.ok(bars.shapes.indexOf('/') > bars.shapes.lastIndexOf(''), 'the methods over budget come after the ranked ones');
        assert.equal(bars.text[0], '#1');
        assert.ok((await page.locator('#methods-bars pattern').count()) > 0, 'the hatching is drawn');
        assert.match((await page.locator('#view').textContent()) ?? '', /at most 110 scores per head \(n = 23\)/);
        // recall against budget: a curve per method
        assert.ok((await page.locator('#methods-curves .scatterlayer .trace').count()) >= 3, 'recall-vs-budget curves drawn');
        assert.match((await page.locator('#view').textContent()) ?? '', /Recall against budget/);
      }
      if (view === 'buckets') {
        assert.ok((await page.locator('#routing-clusters .main-svg').count()) > 0, 'routing clusters drawn');
        assert.match((await page.locator('#view').textContent()) ?? '', /LSH buckets, head 1\.2: [\d.]+% of the attention falls outside/);
      }
    }
    // Back to the overview: clicking the cell of layer 1, head 2 opens that head.
    await page.click('nav.tabs button[data-view="overview"]');
    await page.waitForSelector('#view[data-ready="overview"]');
    // The page position of the cell (head 2, layer 1), from plotly's own axes (evaluated in the page).
    const cell = await overviewCell(page, 1, 2);
    await page.mouse.click(cell.x, cell.y);
    await page.waitForSelector('#view[data-ready="head"]', { timeout: 30000 });
    const picked = await page.locator('vscode-dropdown').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    assert.deepEqual(picked.slice(0, 2), ['1', '2'], 'the layer and head pickers show the clicked head');
    assert.ok((await page.locator('#heatmap .main-svg').count()) > 0);
    // The threshold hides small weights: the local ±2 head keeps only its band.
    await page.locator('#threshold').fill('0.1');
    await page.locator('#threshold').dispatchEvent('input');
    const cells = await page.evaluate(`document.getElementById('heatmap').data[0].z.flat().filter((v) => v !== null).length`);
    assert.ok((cells as number) > 0 && (cells as number) <= 23 * 5, `cells left ${cells}`);
    await page.screenshot({ path: join(SHOTS, 'report-head.png') });
    // The local-window overlay with w = 2 covers exactly the ±2 head's band.
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.locator('vscode-dropdown >> nth=2').evaluate((e) => {
      (e as unknown as { value: string }).value = '1';
      e.dispatchEvent(new Event('change'));
    });
    await page.waitForSelector('#view[data-ready="head"]');
    const shaded = (await page.evaluate(`document.getElementById('heatmap').data[1].z.flat().filter((v) => v === 1).length`)) as number;
    assert.equal(shaded, 23 * 5 - 6, 'pairs within 2 of the diagonal');
    await page.screenshot({ path: join(SHOTS, 'report-overlay.png') });
    // The line view: a line per weight above the threshold, and back to the heatmap.
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.check('#line-view');
    await page.waitForSelector('#view[data-ready="head"]');
    const lineCount = await page.locator('#heatmap svg.lines line').count();
    assert.ok(lineCount >= 23 && lineCount <= 23 * 5, `${lineCount} lines for the ±2 head above 0.1`);
    await page.hover('#heatmap svg.lines text.token >> nth=5');
    assert.equal(await page.locator('#heatmap svg.lines line:visible').count() <= 5, true);
    await page.screenshot({ path: join(SHOTS, 'report-lines.png') });
    await page.uncheck('#line-view');
    await page.waitForSelector('#heatmap .main-svg');
    // Words: 'tokenization'-style pieces join; this text has one piece per word, so only labels are checked.
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.check('#word-level');
    await page.waitForSelector('#view[data-ready="head"]');
    const labels = (await page.evaluate(`document.getElementById('heatmap').layout.xaxis.ticktext`)) as string[];
    assert.equal(labels[0], '[CLS]');
    assert.equal(labels.at(-1), '[SEP]');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('a long sequence is drawn from tiles, and zooming in brings exact cells', async () => {
  const { randomBert } = await import('../../src/model/builder/randomBert');
  const { writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'long-'));
  const model = join(dir, 'model.onnx');
  writeFileSync(model, randomBert({ layers: 1, heads: 2, headDim: 16, hidden: 32, intermediate: 64, vocab: 50, maxPositions: 600, layerNorm: true }, 'long').model);
  const ids = Array.from({ length: 300 }, (_, i) => (i * 7) % 50).join(',');
  const report = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', model, '--ids', ids, '--no-head-distance', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`file://${report}`);
    await page.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
    await page.click('nav.tabs button[data-view="head"]');
    await page.waitForSelector('#view[data-ready="head"]', { timeout: 30000 });
    const whole = (await page.evaluate(`(() => { const d = document.getElementById('heatmap').data[0]; return { rows: d.z.length, cols: d.z[0].length, dx: d.dx, hover: d.hovertemplate }; })()`)) as { rows: number; cols: number; dx: number; hover: string };
    assert.deepEqual([whole.rows, whole.cols, whole.dx], [150, 150, 2], 'the whole 300 x 300 head as 2 x 2 blocks');
    assert.match(whole.hover, /max of a 2 x 2 block/);
    await page.screenshot({ path: join(SHOTS, 'report-tiles.png') });
    await page.evaluate(`(() => { const el = document.getElementById('heatmap'); document.getElementById('view').removeAttribute('data-ready'); el.emit('plotly_relayout', { 'xaxis.range[0]': 100, 'xaxis.range[1]': 139, 'yaxis.range[0]': 139, 'yaxis.range[1]': 100 }); })()`); // what plotly emits on a zoom
    await page.waitForSelector('#view[data-ready="head"]', { timeout: 30000 });
    const zoomed = (await page.evaluate(`(() => { const d = document.getElementById('heatmap').data[0]; return { rows: d.z.length, dx: d.dx, x0: d.x0 }; })()`)) as { rows: number; dx: number; x0: number };
    assert.equal(zoomed.dx, 1, 'exact cells once zoomed in');
    assert.ok(zoomed.rows <= 41 && zoomed.x0 === 100, JSON.stringify(zoomed));
    await page.screenshot({ path: join(SHOTS, 'report-tiles-zoomed.png') });
  } finally {
    await browser.close();
  }
});

test('words: a split word is one row and column, its pieces joined', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'words-'));
  const report = join(dir, 'report.html');
  // the specimen's small vocabulary spells "barks" as b ##a ##r ##k ##s
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', 'demo', '--text', 'the dog barks', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${report}`);
    await page.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
    await page.click('nav.tabs button[data-view="head"]');
    await page.waitForSelector('#view[data-ready="head"]', { timeout: 30000 });
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.check('#word-level');
    await page.waitForSelector('#view[data-ready="head"]', { timeout: 30000 });
    const z = (await page.evaluate(`(() => { const el = document.getElementById('heatmap'); return { labels: el.layout.xaxis.ticktext, rows: el.data[0].z.length, sums: el.data[0].z.map((row) => row.reduce((a, b) => a + b, 0)) }; })()`)) as { labels: string[]; rows: number; sums: number[] };
    assert.deepEqual(z.labels, ['[CLS]', 'the', 'dog', 'barks', '[SEP]']);
    assert.equal(z.rows, 5);
    for (const s of z.sums) assert.ok(Math.abs(s - 1) < 1e-5, `a word's row sums to 1, not ${s}`);
  } finally {
    await browser.close();
  }
});

test('tiny-bert-mlm: every view in the light and the dark theme', async () => {
  const { TINY_BERT } = await import('../helpers/paths');
  const dir = mkdtempSync(join(tmpdir(), 'tiny-'));
  const report = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', TINY_BERT, '--text', 'The quick brown fox jumps over the lazy dog. Tokenization splits words.', '--lab', '--head', '1:1', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  await inEachTheme(report, async (page, colorScheme) => {
    const background = await page.evaluate(`getComputedStyle(document.body).backgroundColor`);
    assert.equal(background, colorScheme === 'dark' ? 'rgb(31, 31, 31)' : 'rgb(255, 255, 255)');
    // the colour map's low end is not the background: all of viridis on a light page, its darkest violet left out on a dark one
    const low = (await page.evaluate(`document.getElementById('overview-grid').data[0].colorscale[0][1]`)) as string;
    assert.equal(low === '#440154', colorScheme === 'light', low);
    assert.deepEqual(await page.evaluate(`[document.getElementById('overview-grid').data[0].zmin, document.getElementById('overview-grid').data[0].zmax > 0]`), [0, true], 'entropy from 0 to the uniform entropy');
    for (const view of ['overview', 'head', 'spans', 'relative', 'rollout', 'methods', 'buckets']) {
      await page.click(`nav.tabs button[data-view="${view}"]`);
      await page.waitForSelector(`#view[data-ready="${view}"]`, { timeout: 30000 });
      assert.ok((await page.locator('#view .main-svg').count()) > 0, `${view} drawn`);
      await page.screenshot({ path: join(SHOTS, `tiny-bert-${colorScheme}-${view}.png`) });
    }
  });
});

test('an encoder-decoder in the report: cross-attention drawn target x source, offsets left out with a note, each part mapped on its own; light and dark', async () => {
  const { seq2seqModels, TINY_SEQ2SEQ_SHAPE } = await import('../../src/model/builder/seq2seqModels');
  const dir = mkdtempSync(join(tmpdir(), 'seq2seq-'));
  const models = seq2seqModels();
  mkdirSync(join(dir, 'onnx'));
  writeFileSync(join(dir, 'onnx', 'encoder_model.onnx'), models.encoder.model);
  writeFileSync(join(dir, 'onnx', 'decoder_model_merged.onnx'), models.merged.model);
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'le', 'chat', 'est', 'assis', 'sur', 'tapis', '.'].join('\n'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ decoder_start_token_id: 2, max_position_embeddings: TINY_SEQ2SEQ_SHAPE.maxPositions }));
  const report = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', dir, '--text', 'the cat sat on the mat.', '--target-text', 'le chat est assis sur le tapis.', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  await inEachTheme(report, async (page, colorScheme) => {
    assert.match((await page.textContent('header')) ?? '', /9 source and 11 target tokens · 6 layers, 12 heads/);
    assert.match((await page.locator('#embedding').textContent()) ?? '', /each on its own map:.*encoder self-attention.*decoder self-attention.*cross-attention/);
    await page.screenshot({ path: join(SHOTS, `seq2seq-${colorScheme}-overview.png`) });
    // layer 3 is the first cross-attention: queries the target's tokens, keys the source's
    const cell = await overviewCell(page, 3, 1);
    await page.mouse.click(cell.x, cell.y);
    await page.waitForSelector('#view[data-ready="head"]', { timeout: 30000 });
    const axes = (await page.evaluate(`(() => { const l = document.getElementById('heatmap').layout; return [l.yaxis.ticktext, l.xaxis.ticktext, l.yaxis.title.text, l.xaxis.title.text]; })()`)) as [string[], string[], string, string];
    assert.deepEqual(axes[0].slice(0, 3), ['[CLS]', '[CLS]', 'le']);
    assert.deepEqual(axes[1].slice(0, 3), ['[CLS]', 'the', 'cat']);
    assert.deepEqual(axes.slice(2), ['query (target)', 'key (source)']);
    await page.screenshot({ path: join(SHOTS, `seq2seq-${colorScheme}-cross-head.png`) });
    // words of two texts: 11 target and 9 source pieces, one piece per word here
    await page.locator('#view').evaluate((e) => e.removeAttribute('data-ready'));
    await page.check('#word-level');
    await page.waitForSelector('#view[data-ready="head"]');
    const z = (await page.evaluate(`document.getElementById('heatmap').data[0].z.map((row) => row.length)`)) as number[];
    assert.deepEqual([z.length, z[0]], [11, 9]);
    for (const view of ['spans', 'relative']) {
      await page.click(`nav.tabs button[data-view="${view}"]`);
      await page.waitForSelector(`#view[data-ready="${view}"]`, { timeout: 30000 });
      assert.match((await page.locator('#view p.note').textContent()) ?? '', /4 cross-attention heads are left out: their queries and keys are positions of different texts/);
      await page.screenshot({ path: join(SHOTS, `seq2seq-${colorScheme}-${view}.png`) });
    }
    const rows = (await page.evaluate(`document.getElementById('relative').data[0].z.length`)) as number;
    assert.equal(rows, 8, 'the self-attention heads of the encoder and the decoder');
    // a rollout for each self-attention stack, over its own text; cross-attention not in the product
    await page.click('nav.tabs button[data-view="rollout"]');
    await page.waitForSelector('#view[data-ready="rollout"]', { timeout: 30000 });
    const sides = (await page.evaluate(`[0, 1].map((k) => { const l = document.getElementById('rollout-' + k).layout; return [l.yaxis.ticktext.length, l.yaxis.title.text, l.xaxis.title.text]; })`)) as [number, string, string][];
    assert.deepEqual(sides, [[9, 'output (source), top layer', 'input (source), embeddings'], [11, 'output (target), top layer', 'input (target), embeddings']]);
    assert.match((await page.locator('#view').textContent()) ?? '', /cross-attention is not in the product/);
    await page.screenshot({ path: join(SHOTS, `seq2seq-${colorScheme}-rollout.png`), fullPage: true });
  });
});

test('the rollout view: rollout and flow, outputs x inputs on the heatmaps\' colour map; a click on a row shows that output\'s distribution', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-'));
  const report = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', 'demo', '--text', 'The quick brown fox, the lazy dog. It jumps.', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  await inEachTheme(report, async (page, colorScheme) => {
    await page.click('nav.tabs button[data-view="rollout"]');
    await page.waitForSelector('#view[data-ready="rollout"]', { timeout: 30000 });
    const expected = (await page.evaluate('window.attentionLensReport.summary.analysis.rollout.stacks[0]')) as { rollout: number[][]; flow: number[][] };
    const n = expected.rollout.length;
    for (const id of ['rollout-0', 'flow-0']) {
      const drawn = (await page.evaluate(`(() => { const d = document.getElementById('${id}').data[0]; return { rows: d.z.length, cols: d.z[0].length, zmin: d.zmin, zmax: d.zmax, low: d.colorscale[0][1] }; })()`)) as { rows: number; cols: number; zmin: number; zmax: number; low: string };
      assert.deepEqual({ ...drawn, low: drawn.low === '#440154' }, { rows: n, cols: n, zmin: 0, zmax: 1, low: colorScheme === 'light' }, id);
    }
    // the first output ([CLS]) is shown first, both methods' rows side by side
    const bars = async (): Promise<number[][]> => (await page.evaluate(`document.getElementById('rollout-output-0').data.map((t) => t.y)`)) as number[][];
    assert.equal(await page.getAttribute('#rollout-output-0', 'data-output'), '0');
    const close = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, j) => Math.abs(v - b[j]) < 1e-12);
    assert.ok(close((await bars())[0], expected.rollout[0]) && close((await bars())[1], expected.flow[0]));
    await page.screenshot({ path: join(SHOTS, `rollout-${colorScheme}.png`), fullPage: true });
    // a click on row 5 of the rollout shows output 5, framed on both heatmaps
    const cell = await plotCell(page, 'rollout-0', 5, 2);
    await page.mouse.click(cell.x, cell.y);
    await page.waitForSelector('#rollout-output-0[data-output="5"]', { timeout: 30000 });
    assert.ok(close((await bars())[0], expected.rollout[5]) && close((await bars())[1], expected.flow[5]));
    assert.deepEqual(await page.evaluate(`['rollout-0', 'flow-0'].map((id) => document.getElementById(id).layout.shapes[0].y0)`), [4.5, 4.5]);
    assert.match((await page.textContent('#rollout-output-0')) ?? '', /what , \(5\) draws from each input/);
    const notes = (await page.locator('#view p.note').allTextContents()).join(' ');
    assert.match(notes, /heads averaged, each layer mixed with the residual as 0\.5 A \+ 0\.5 I/);
    assert.match(notes, /over the captured layers 0, 1, 2/);
    await page.screenshot({ path: join(SHOTS, `rollout-${colorScheme}-clicked.png`), fullPage: true });
    // its data as CSV: a weight a line, both methods
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('.exports button[data-export="csv"]')]);
    const lines = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'stack,method,output,outputToken,input,inputToken,weight');
    assert.equal(lines.length, 2 * n * n + 1);
  });
});

test('the report of the induction probe says what ran and opens coloured by the induction score, the planted head at 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-induction-'));
  writeFileSync(join(dir, 'model.onnx'), inductionDecoder().model);
  const report = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', dir, '--induction-probe', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${report}`);
    await page.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
    assert.match((await page.textContent('header')) ?? '', /the induction probe: 50 random tokens shown twice \(seed 1\) · 100 tokens/);
    const grid = (await page.evaluate(`(() => { const d = document.getElementById('overview-grid').data[0]; return { title: d.colorbar.title.text, z: d.z[0] }; })()`)) as { title: string; z: number[] };
    assert.equal(grid.title, 'induction (prefix matching)<br>0 to 1', 'the statistic and its fixed range');
    assert.ok(grid.z[0] > 0.999 && grid.z.slice(1).every((v) => v < 0.02), grid.z.join());
    await page.screenshot({ path: join(SHOTS, 'report-induction.png') });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("the report's header names the model's folder and the text; a head's exports follow the head shown, its JSON holds rows of numbers", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  const report = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', 'demo', '--text', 'the cat sat on the mat.', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true })).newPage();
    await page.goto(`file://${report}`);
    await page.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
    assert.equal(await page.locator('header .model').innerText(), 'specimen');
    assert.match((await page.locator('header .model').getAttribute('title')) ?? '', /specimen[\\/]model\.onnx$/);
    assert.equal(await page.locator('#run-again, #compare-with').count(), 0, 'the report runs no model and has no other panel to compare with');
    assert.equal(await page.locator('#analysed-text p').textContent(), 'the cat sat on the mat .', 'read back from its tokens');
    await page.click('nav.tabs button[data-view="head"]');
    await page.waitForSelector('#view[data-ready="head"]');
    await page.evaluate(`(() => { const d = document.querySelectorAll('vscode-dropdown')[1]; d.value = '3'; d.dispatchEvent(new Event('change')); })()`);
    await page.waitForSelector('#view[data-ready="head"] #heatmap .main-svg');
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('.exports button[data-export="json"]')]);
    assert.equal(json.suggestedFilename(), 'head-0-3.json');
    const data = JSON.parse(readFileSync((await json.path())!, 'utf8')) as { head: number; attention: number[][]; queryTokens: string[] };
    assert.equal(data.head, 3);
    assert.ok(data.attention.length === data.queryTokens.length && data.attention.every((row) => Array.isArray(row) && row.every((p) => typeof p === 'number')));
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('.exports button[data-export="png"]')]);
    assert.equal(png.suggestedFilename(), 'head-0-3.png');
    assert.equal(readFileSync((await png.path())!).subarray(1, 4).toString(), 'PNG');
  } finally {
    await browser.close();
  }
});
