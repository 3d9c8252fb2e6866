// A masked LM's predictions under the analysed text, in the panel (under a VS Code stand-in) and
// in the standalone report the CLI writes, which reads the same summary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { captureSummary } from '../../src/analysis/captureViews';
import { predictionLine } from '../../src/analysis/tokenPredictions';
import { LoadedModel } from '../../src/model/capture';
import { CLI, TINY_BERT } from '../helpers/paths';
import { launch, standInPage } from './standInPage';

process.env.ORT_DISABLE_TELEMETRY = '1';
const TEXT = 'the capital of france is [MASK] , and of italy [MASK] .';

test('the panel and the report list the top tokens at each [MASK] under the text', async () => {
  const m = await LoadedModel.load({ model: TINY_BERT, executionProvider: 'cpu' });
  const capture = await m.capture({ text: TEXT });
  const summary = { ...captureSummary(m.info.path, capture, analyzeCapture(capture)), source: { model: m.info.path, text: TEXT } };
  const expected = capture.predictions!.map((p) => predictionLine(p, capture.tokens));
  assert.equal(expected.length, 2);
  assert.match(expected[0], /^\[MASK\] at 6: (".+" 0\.\d+, ){4}".+" 0\.\d+$/);
  const html = join(mkdtempSync(join(tmpdir(), 'attention-lens-predictions-')), 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', TINY_BERT, '--text', TEXT, '--html', html], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await launch();
  try {
    const p = await browser.newPage({ viewport: { width: 600, height: 900 } });
    await p.goto(`file://${standInPage()}`);
    await p.waitForFunction('window.sent.length > 0');
    await p.evaluate(`window.postMessage(${JSON.stringify({ type: 'summary', summary })}, '*')`);
    await p.waitForSelector('#view[data-ready="overview"]');
    assert.deepEqual(await p.locator('#predictions li').allTextContents(), expected);
    // under the analysed text, before the tabs
    assert.ok(await p.evaluate(`document.querySelector('#analysed-text').nextElementSibling === document.querySelector('#predictions')`));
    const box = (await p.locator('#predictions').boundingBox())!;
    assert.ok(box.x + box.width <= 600, 'the list stays inside a 600 px panel');
    const report = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await report.goto(`file://${html}`);
    await report.waitForSelector('#view[data-ready="overview"]', { timeout: 30000 });
    assert.deepEqual(await report.locator('#predictions li').allTextContents(), expected);
  } finally {
    await browser.close();
    await m.release();
  }
});
