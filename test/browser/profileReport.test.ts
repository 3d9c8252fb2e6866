// The memory profiler's view in the standalone report, in Chromium, offline, in the light and
// the dark theme: the peak against n, the timeline with attention's operators, the top
// operators and time against n; a click on the timeline names the operator; the data exports.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { CLI, TINY_BERT } from '../helpers/paths';

const CHROMIUM = process.env.ATTENTION_LENS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.ATTENTION_LENS_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'attention-lens-shots-'));

test('the profile report shows the sweep, the timeline and the measured-vs-estimate curve in both themes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'profile-report-'));
  const report = join(dir, 'profile.html');
  const r = spawnSync(process.execPath, [CLI, 'profile', '--model', TINY_BERT, '--ep', 'cpu', '--extrapolate-to', '512', '--json', join(dir, 'p.json'), '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 1000 }, colorScheme, acceptDownloads: true });
      await context.setOffline(true);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${report}`);
      await page.waitForSelector('#app[data-ready="profile"]', { timeout: 30000 });
      assert.match((await page.textContent('header')) ?? '', /tiny-bert-mlm\/model\.onnx · 4 points · ran on CPU · memory pattern on/);
      assert.match((await page.textContent('#app')) ?? '', /grows as peak n\^[\d.]+, attention n\^2\.00/);
      assert.match((await page.textContent('#app')) ?? '', /at n = 512 \(extrapolated\)/);
      for (const id of ['profile-peak', 'profile-timeline', 'profile-time']) assert.ok((await page.locator(`#${id} .main-svg`).count()) > 0, id);
      const legend = (await page.locator('#profile-peak .legendtext').allTextContents()).join('|');
      assert.match(legend, /peak in use, batch 1\|weights\|attention probabilities, all layers\|other activations \(outputs summed\)\|estimate: attention probabilities\|estimate: peak\|fit, extrapolated: peak/);
      assert.equal(await page.locator('#profile-timeline .legendtext').nth(1).textContent(), 'attention operators');
      await page.screenshot({ path: join(SHOTS, `profile-report-${colorScheme}.png`), fullPage: true });
      if (colorScheme === 'light') {
        const [csv] = await Promise.all([page.waitForEvent('download'), page.click('.exports button[data-export="csv"] >> nth=0')]);
        assert.equal(csv.suggestedFilename(), 'memory-profile.csv');
        assert.match(readFileSync((await csv.path())!, 'utf8').split('\n')[0], /^n,batch,wall ms,peak bytes,estimated peak bytes,peak error %,arena bytes,RSS bytes,attention bytes,estimated attention bytes,attention error %,differences$/);
        const [svg] = await Promise.all([page.waitForEvent('download'), page.click('.exports button[data-export="svg"] >> nth=1')]);
        assert.equal(svg.suggestedFilename(), 'memory-timeline.svg');
        // a click on an attention operator of the timeline names it
        await page.locator('#profile-timeline').scrollIntoViewIfNeeded();
        const box = (await page.locator('#profile-timeline .points path').first().boundingBox())!;
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.waitForSelector('#profile-timeline .hoverlayer .hovertext');
        await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
        await page.locator('#profile-node', { hasText: /^step \d+: .+ · (FusedMatMul|Add|Softmax|MatMul) \(attention\)/ }).waitFor();
        // the first tab: the estimate of the config beside the model, drawn when shown
        assert.deepEqual(await page.locator('nav.tabs button').allTextContents(), ['Estimate', 'Profile']);
        assert.equal(await page.locator('nav.tabs button.active').textContent(), 'Profile', 'the measured profile is shown first');
        await page.click('nav.tabs button[data-tab="Estimate"]');
        await page.waitForSelector('#memory-plot .main-svg');
        assert.match((await page.textContent('header')) ?? '', /^inference at n=128, fp32: no KV cache \(encoder\), attention scores 256 KiB\/layer/);
        await page.screenshot({ path: join(SHOTS, 'profile-report-estimate-tab.png'), fullPage: true });
        await page.click('nav.tabs button[data-tab="Profile"]');
        await page.waitForSelector('#profile-peak .main-svg');
      }
      assert.deepEqual(errors, []);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stderr.write(`profile screenshots in ${SHOTS}\n`);
});

test("--tapped: the view draws each point's peak on the copy a capture runs, and lists it", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'profile-report-tapped-'));
  const report = join(dir, 'profile.html');
  const r = spawnSync(process.execPath, [CLI, 'profile', '--model', TINY_BERT, '--ep', 'cpu', '--seq', '16,32', '--tapped', '--html', report], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 1000 } })).newPage();
    await page.goto(`file://${report}`);
    await page.waitForSelector('#app[data-ready="profile"]', { timeout: 30000 });
    assert.ok((await page.locator('#profile-peak .legendtext').allTextContents()).includes('peak of the tapped copy (a capture)'));
    assert.equal(await page.locator('table th').filter({ hasText: /^tapped peak$/ }).count(), 1);
  } finally {
    await browser.close();
  }
});
