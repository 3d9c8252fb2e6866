// The packaged extension in a real VS Code (code-server 4.139.1 in Chromium): the specimen from the
// palette, the CodeLens and memory panel on a config.json, fused and merged exports without a
// tokenizer, a tokenizer added later, cancelling a long corpus run, and an untrusted workspace.
// Screenshots go to test-output/e2e/screenshots/.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestContext, after, before, describe, test } from 'node:test';
import { TINY_DECODER_SHAPE, mergedDecoder } from '../../src/model/builder/mergedDecoder';
import { seq2seqModels } from '../../src/model/builder/seq2seqModels';
import { randomBert } from '../../src/model/builder/randomBert';
import { overviewCell } from '../helpers/overviewCell';
import { GENAI_GQA, ORT_TESTDATA, REPO, SPECIMEN } from '../helpers/paths';
import { E2E_OUTPUT, VsCodeInstance, missingTools } from './codeServer';

const missing = missingTools();
if (missing) throw new Error(`end-to-end tests: ${missing}`);
rmSync(E2E_OUTPUT, { recursive: true, force: true });

/** A workspace with a BERT config, a fused-attention model and a long corpus. */
function workspace(name: string): string {
  const dir = join(E2E_OUTPUT, `${name}-workspace`);
  mkdirSync(join(dir, 'bert'), { recursive: true });
  mkdirSync(join(dir, 'fused'), { recursive: true });
  copyFileSync(join(REPO, 'test', 'fixtures', 'configs', 'bert-base-uncased.json'), join(dir, 'bert', 'config.json'));
  copyFileSync(join(ORT_TESTDATA, 'attention_opt.onnx'), join(dir, 'fused', 'attention_opt.onnx'));
  // an onnxruntime-genai export (GroupQueryAttention, no tokenizer) and a merged decoder built here
  mkdirSync(join(dir, 'genai'), { recursive: true });
  for (const f of ['decoder.onnx', 'genai_config.json']) copyFileSync(join(GENAI_GQA, f), join(dir, 'genai', f));
  mkdirSync(join(dir, 'merged', 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'merged', 'onnx', 'decoder_model_merged.onnx'), mergedDecoder(TINY_DECODER_SHAPE, true).model);
  // an encoder-decoder in optimum's layout (encoder, merged decoder), with its vocabulary
  const seq2seq = seq2seqModels();
  mkdirSync(join(dir, 'seq2seq', 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'seq2seq', 'onnx', 'encoder_model.onnx'), seq2seq.encoder.model);
  writeFileSync(join(dir, 'seq2seq', 'onnx', 'decoder_model_merged.onnx'), seq2seq.merged.model);
  writeFileSync(join(dir, 'seq2seq', 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'le', 'chat', 'est', 'assis', '.'].join('\n'));
  writeFileSync(join(dir, 'seq2seq', 'config.json'), JSON.stringify({ model_type: 'marian', decoder_start_token_id: 2, max_position_embeddings: 32 }));
  // a model whose tokenizer arrives after a first run
  mkdirSync(join(dir, 'later'), { recursive: true });
  copyFileSync(join(SPECIMEN, 'model.onnx'), join(dir, 'later', 'model.onnx'));
  const sentence = 'The quick brown fox jumps over the lazy dog, and then it sleeps under the old tree by the river.';
  // 12 layers of 12 heads (random weights, small heads): enough heads for the head map to cost seconds at 512 tokens.
  mkdirSync(join(dir, 'wide'), { recursive: true });
  writeFileSync(join(dir, 'wide', 'model.onnx'), randomBert({ layers: 12, heads: 12, headDim: 8, hidden: 96, intermediate: 0, vocab: 271, maxPositions: 512, layerNorm: true }).model);
  copyFileSync(join(REPO, 'media', 'specimen', 'vocab.txt'), join(dir, 'wide', 'vocab.txt'));
  writeFileSync(join(dir, 'wide', 'config.json'), JSON.stringify({ model_type: 'bert', num_hidden_layers: 12, num_attention_heads: 12, hidden_size: 96, max_position_embeddings: 512, vocab_size: 271, do_lower_case: true }));
  // more than the 512 positions of the 144-head model: its capture at 512 holds 151 MB
  writeFileSync(join(dir, 'long.txt'), Array.from({ length: 20 }, () => 'the dog runs over the hill and the cat sleeps in the sun.').join(' '));
  // a config beside 3 MB of data: more than the CodeLens scans
  writeFileSync(join(dir, 'huge-config.json'), JSON.stringify({ hidden_size: 768, num_attention_heads: 12, num_hidden_layers: 12, table: Array(600_000).fill(0.5) }));
  writeFileSync(join(dir, 'corpus.txt'), Array.from({ length: 5000 }, (_, i) => `${i}: ${sentence} ${sentence} ${sentence}`).join('\n'));
  return dir;
}

const MODEL_PICK = 'model to analyze';

/** A test that leaves a screenshot of the moment it failed. */
const e2eTest = (vscode: VsCodeInstance, name: string, body: (t: TestContext) => Promise<void>): void => {
  test(name, async (t) => {
    try {
      await body(t);
    } catch (e) {
      await vscode.screenshot('FAILED').catch(() => undefined);
      console.error(`engine processes: ${JSON.stringify(vscode.enginePids())}\nthe extension's log:\n${vscode.outputLog()}`);
      throw e;
    }
  });
};

const waitFor = async (what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('in a trusted workspace', () => {
  // the head map of the 144-head model at 512 tokens takes about 2 s here: the setting makes the panel offer it
  const vscode = new VsCodeInstance({ name: 'trusted', workspace: workspace('trusted'), settings: { 'attentionLens.headMapSeconds': 0.5 } });
  before(() => vscode.start());
  after(() => vscode.stop());

  e2eTest(vscode, 'Open Specimen Model renders the overview of its 12 heads, and clicking a head opens its heatmap', async () => {
    await vscode.runCommand('Attention Lens: Open Specimen Model');
    const frame = await vscode.webviewFrame('#view[data-ready="overview"]');
    const header = await frame.locator('header').innerText();
    assert.match(header, /specimen\/model\.onnx · \d+ tokens · 3 layers, 12 heads · ran on CPU/);
    await vscode.screenshot('specimen-overview');
    // The cell of layer 1, head 2 (the local ±2 head), moved into page coordinates.
    const inFrame = await overviewCell(frame, 1, 2);
    const box = (await (await frame.frameElement()).boundingBox())!;
    await vscode.page.mouse.click(box.x + inFrame.x, box.y + inFrame.y);
    await frame.waitForSelector('#view[data-ready="head"]', { timeout: 30_000 });
    const picked = await frame.locator('vscode-dropdown').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    assert.deepEqual(picked.slice(0, 2), ['1', '2'], 'the clicked head is the one shown');
    assert.ok((await frame.locator('#heatmap .main-svg').count()) > 0, 'the heatmap is drawn');
    await vscode.screenshot('specimen-head-1-2');
    // The status bar names the provider that ran; the log says what ran.
    await vscode.page.locator('.statusbar-item', { hasText: 'Attention Lens: CPU' }).first().waitFor({ timeout: 10_000 });
    assert.match(vscode.outputLog(), /specimen: \d+ tokens, 3 layers, 12 heads, \d+ ms, provider cpu/);
  });

  e2eTest(vscode, 'the Explorer offers Analyze Model on models and the folders that hold one, Analyze Corpus on text files', async () => {
    const menuFor = async (name: string): Promise<string[]> => {
      await vscode.page.keyboard.press('Escape');
      await vscode.page.locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^${name}$`) }).click({ button: 'right' });
      const items = vscode.page.locator('.context-view .monaco-menu .action-label');
      await items.first().waitFor({ state: 'visible', timeout: 10_000 });
      return items.allInnerTexts();
    };
    assert.ok((await menuFor('fused')).includes('Analyze Model'), 'a folder holding an .onnx file');
    await vscode.page.waitForTimeout(300); // the menu fades in
    await vscode.screenshot('explorer-menu-model-folder');
    assert.ok(!(await menuFor('bert')).includes('Analyze Model'), 'a folder without one');
    const corpusMenu = await menuFor('corpus.txt');
    assert.ok(corpusMenu.includes('Analyze Corpus') && !corpusMenu.includes('Analyze Model'), corpusMenu.join(', '));
    await vscode.page.keyboard.press('Escape');
  });

  e2eTest(vscode, 'the Getting Started walkthrough runs the specimen end to end', async () => {
    const runs = (): number => vscode.outputLog().match(/specimen: \d+ tokens, 3 layers, 12 heads/g)?.length ?? 0;
    const before = runs();
    await vscode.runCommand('Welcome: Open Walkthrough...');
    await vscode.pick('Get Started with Attention Lens');
    const step = vscode.page.locator('.getting-started-step', { hasText: 'Run the specimen model' });
    await step.getByRole('button', { name: 'Open Specimen Model' }).click();
    await waitFor('the walkthrough\'s run', () => runs() === before + 1);
    const frame = await vscode.webviewFrame('#view[data-ready]');
    assert.match(await frame.locator('header').innerText(), /3 layers, 12 heads/);
    // The panel took the walkthrough's place in its group: back to the walkthrough, its step is done.
    await vscode.page.locator('.tabs-container .tab', { hasText: 'Welcome' }).click();
    await step.locator('.codicon-getting-started-step-checked').waitFor({ state: 'visible', timeout: 10_000 });
    await vscode.screenshot('walkthrough');
  });

  e2eTest(vscode, 'a config.json of a BERT model shows the estimate in a CodeLens, which opens the memory panel', async () => {
    await vscode.page.keyboard.press('Escape');
    await vscode.page.keyboard.press('Control+P');
    await vscode.pick('config.json');
    const lens = vscode.page.locator('.codelens-decoration a', { hasText: 'attention at n=512' }).first();
    await lens.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await lens.innerText(), /attention at n=512: 12 MiB\/layer, 144 MiB in all \(fp32, batch 1\)/);
    await vscode.screenshot('config-codelens');
    await lens.click();
    const frame = await vscode.webviewFrame('#app[data-ready="memory"]');
    assert.ok((await frame.locator('#memory-plot .main-svg').count()) > 0, 'the memory chart is drawn');
    assert.match(await frame.locator('table').innerText(), /dense/i);
    await vscode.screenshot('memory-panel');
  });

  e2eTest(vscode, 'a config file larger than the scan limit is left alone, and its CodeLens says so', async () => {
    await vscode.page.keyboard.press('Escape');
    await vscode.page.keyboard.press('Control+P');
    await vscode.pick('huge-config.json');
    const lens = vscode.page.locator('.codelens-decoration', { hasText: 'scanned for model configurations' }).first();
    await lens.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await lens.innerText(), /this file is 2\.\d MiB, more than the 2\.0 MiB scanned for model configurations \(attentionLens\.configScanLimitKiB\)/);
    await vscode.screenshot('config-too-large');
  });

  /** Analyze Model on a workspace folder without a tokenizer: token ids are asked for, then the layers. */
  const analyzeWithIds = async (folder: string): Promise<string> => {
    await vscode.runCommand('Attention Lens: Analyze Model');
    await vscode.pick(folder, MODEL_PICK);
    await vscode.acceptInput('has no tokenizer beside it: token ids');
    await vscode.acceptInput('layers to capture');
    const frame = await vscode.webviewFrame(`#view[data-ready]`);
    await frame.locator('header', { hasText: new RegExp(`${folder}/`) }).waitFor({ timeout: 60_000 });
    return frame.locator('header').innerText();
  };

  e2eTest(vscode, 'Analyze Model on an onnxruntime-genai folder (GroupQueryAttention, no tokenizer) takes token ids and opens the panel', async () => {
    assert.match(await analyzeWithIds('genai'), /genai\/decoder\.onnx · 8 tokens · 2 layers, 8 heads/);
    await vscode.screenshot('genai-gqa-overview');
  });

  e2eTest(vscode, 'Analyze Model on a merged-decoder folder opens the panel on the attention inside its If', async () => {
    assert.match(await analyzeWithIds('merged'), /merged\/onnx\/decoder_model_merged\.onnx · 8 tokens · 2 layers, 4 heads/);
    await vscode.screenshot('merged-decoder-overview');
  });

  e2eTest(vscode, 'Analyze Model on an encoder-decoder folder asks for the target text and draws the cross-attention target x source', async () => {
    await vscode.runCommand('Attention Lens: Analyze Model');
    await vscode.pick('seq2seq', MODEL_PICK);
    const type = async (title: string, text: string): Promise<void> => {
      await vscode.page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 60_000 });
      const input = vscode.page.locator('.quick-input-widget input').first();
      await input.fill(text);
      await input.press('Enter');
    };
    await type('text to analyze', 'the cat sat on the mat.');
    await type('is an encoder-decoder: the target text', 'le chat est assis.');
    await vscode.acceptInput('layers to capture');
    const frame = await vscode.webviewFrame('#view[data-ready]');
    await frame.locator('header', { hasText: 'encoder_model.onnx' }).waitFor({ timeout: 60_000 });
    assert.match(await frame.locator('header').innerText(), /encoder_model\.onnx · 9 source and 8 target tokens · 6 layers, 12 heads/);
    await vscode.screenshot('seq2seq-overview');
  });

  e2eTest(vscode, 'a tokenizer added beside a model after a first run is used on the next', async () => {
    await analyzeWithIds('later');
    copyFileSync(join(SPECIMEN, 'vocab.txt'), join(vscode.workspaceFolder, 'later', 'vocab.txt'));
    await vscode.runCommand('Attention Lens: Analyze Model');
    await vscode.pick('later', MODEL_PICK);
    await vscode.acceptInput('text to analyze');
    await vscode.acceptInput('layers to capture');
    const frame = await vscode.webviewFrame('#view[data-ready]');
    await frame.locator('header', { hasText: /later\/model\.onnx · 2\d tokens/ }).waitFor({ timeout: 60_000 });
    await vscode.screenshot('tokenizer-added-later');
  });

  e2eTest(vscode, 'Cancel stops a long corpus run and its engine process, and the next run works', async () => {
    await vscode.runCommand('Attention Lens: Analyze Corpus');
    await vscode.pick('corpus.txt', 'corpus');
    await vscode.pick('Specimen model', MODEL_PICK);
    await vscode.notification(/text \d+ of 5000/);
    const progress = vscode.page.locator('.notifications-toasts .notification-toast', { hasText: /text \d+ of 5000/ }).first();
    const running = vscode.enginePids();
    assert.equal(running.length, 1, 'one engine process runs the corpus');
    await vscode.screenshot('corpus-progress');
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await waitFor('the engine process to stop', () => vscode.enginePids().length === 0);
    await waitFor('the log to record the cancel', () => /specimen: the run was cancelled/.test(vscode.outputLog()));
    const runs = (): number => vscode.outputLog().match(/specimen: \d+ tokens, 3 layers, 12 heads/g)?.length ?? 0;
    const before = runs();
    await vscode.runCommand('Attention Lens: Open Specimen Model');
    await waitFor('the next run to finish', () => runs() === before + 1);
    const frame = await vscode.webviewFrame('#view[data-ready]');
    assert.match(await frame.locator('header').innerText(), /specimen\/model\.onnx · \d+ tokens · 3 layers, 12 heads/);
    const after = vscode.enginePids();
    assert.equal(after.length, 1);
    assert.notEqual(after[0], running[0], 'a fresh engine process ran the next analysis');
    await vscode.screenshot('after-cancel');
  });


  e2eTest(vscode, 'a long selection on a model of 144 heads: the extension host holds none of its capture, and the head map is offered with its cost and drawn on request', async (t) => {
    await vscode.page.keyboard.press('Escape');
    await vscode.page.keyboard.press('Control+P');
    await vscode.pick('long.txt');
    // Quick Open leaves the editor focused: select all of it.
    await vscode.page.locator('.monaco-editor.focused .view-lines', { hasText: 'the dog runs' }).first().waitFor({ timeout: 30_000 });
    await vscode.page.keyboard.press('Control+A');
    await vscode.page.locator('.statusbar-item', { hasText: /\(\d+ selected\)/ }).first().waitFor({ timeout: 10_000 });
    await vscode.runCommand('Attention Lens: Analyze Selection');
    await vscode.pick('wide', MODEL_PICK);
    await vscode.acceptInput('layers to capture');
    const frame = await vscode.webviewFrame('#view[data-ready]');
    await frame.locator('header', { hasText: 'wide/model.onnx' }).waitFor({ timeout: 60_000 });
    assert.match(await frame.locator('header').innerText(), /wide\/model\.onnx · 512 tokens · 12 layers, 144 heads/);
    // the 151 MB of probabilities stay in the engine: the extension host's memory barely moves
    await waitFor('the run in the log', () => /wide: 512 tokens, 12 layers, 144 heads.*extension host \d+ MiB/.test(vscode.outputLog()));
    const host = (when: RegExp): number => Number([...vscode.outputLog().matchAll(new RegExp(`${when.source}.*extension host (\\d+) MiB resident`, 'g'))].at(-1)![1]);
    const rise = host(/wide: 512 tokens, 12 layers, 144 heads/) - host(/wide: capturing attention…/);
    t.diagnostic(`extension host resident memory: ${rise} MiB more after the analysis`);
    assert.ok(rise < 64, `the extension host grew by ${rise} MiB`);
    await frame.locator('nav.tabs button[data-view="overview"]').click();
    await frame.waitForSelector('#view[data-ready="overview"]');
    assert.match(await frame.locator('#head-map-offer').innerText(), /about \d+(\.\d)? s/);
    await vscode.screenshot('head-map-offered');
    await frame.locator('#head-map-offer button').click();
    await frame.waitForSelector('#embedding .main-svg', { timeout: 120_000 });
    await frame.waitForSelector('#view[data-ready="overview"]');
    await vscode.screenshot('head-map-drawn');
  });

  test('activation time, as VS Code measures it (Developer: Show Running Extensions)', async (t) => {
    await vscode.runCommand('Developer: Show Running Extensions');
    const time = vscode.page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'Attention Lens' }).locator('.activation-time');
    await time.waitFor({ state: 'visible', timeout: 30_000 });
    const ms = Number((await time.innerText()).match(/Activation: (\d+)ms/)?.[1]);
    assert.ok(ms > 0, await time.innerText());
    t.diagnostic(`activation ${ms} ms (VS Code's figure: loading the bundle and activate()); ${vscode.outputLog().match(/activated in [\d.]+ ms/)?.[0]} (activate() alone)`);
    await vscode.screenshot('running-extensions');
  });

  e2eTest(vscode, 'a window reload brings the attention panel back, its model run again', async () => {
    await vscode.page.reload();
    await vscode.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    const frame = await vscode.webviewFrame('#view[data-ready]', 90_000);
    assert.match(await frame.locator('header').innerText(), /wide\/model\.onnx · 512 tokens · 12 layers, 144 heads/);
    assert.match(vscode.outputLog(), /restoring the attention panel: .*wide/);
    await vscode.screenshot('restored-after-reload');
  });

  e2eTest(vscode, "the extension's page shows the README: the quick start and the settings table", async () => {
    await vscode.runCommand('Extensions: Show Installed Extensions');
    await vscode.page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'Attention Lens' }).first().click();
    const readme = await vscode.webviewFrame('img[alt^="The attention panel on the specimen"]', 60_000);
    const text = await readme.locator('body').innerText();
    assert.match(text, /Quick start in VS Code/);
    assert.match(text, /attentionLens\.captureCacheMiB/, 'the settings table');
    await vscode.screenshot('extension-page');
  });
});

describe('in an untrusted workspace', () => {
  const vscode = new VsCodeInstance({
    name: 'untrusted',
    workspace: workspace('untrusted'),
    trust: true,
    settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'always' },
  });
  before(() => vscode.start());
  after(() => vscode.stop());

  e2eTest(vscode, 'no model of the workspace runs, with the reason; estimates still work', async () => {
    await vscode.runCommand('Attention Lens: Analyze Attention');
    await vscode.pick('attention_opt.onnx', MODEL_PICK);
    const message = await vscode.notification('untrusted workspace');
    assert.match(message, /runs no model from an untrusted workspace: an ONNX model is code that ONNX Runtime executes/);
    assert.match(message, /Manage Workspace Trust/);
    assert.equal(vscode.enginePids().length, 0, 'no engine process was started');
    await vscode.screenshot('untrusted-refused');
    await vscode.page.keyboard.press('Escape');
    await vscode.page.keyboard.press('Control+P');
    await vscode.pick('config.json');
    await vscode.page.locator('.codelens-decoration a', { hasText: 'attention at n=512' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    await vscode.screenshot('untrusted-codelens');
  });
});
