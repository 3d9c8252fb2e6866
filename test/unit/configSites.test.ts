import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import { denseEstimate } from '../../src/memory/attentionMemory';
import { binaryBytes } from '../../src/analysis/units';
import { ConfigLanguage, ConfigScan, configSites, fragmentsAfter } from '../../src/memory/configSites';
import { attentionShape } from '../../src/memory/modelDims';
import { REPO, TINY_BERT } from '../helpers/paths';

const fixture = (name: string): string => readFileSync(join(REPO, 'test', 'fixtures', 'configs', name), 'utf8');
const settings = { batch: 1, dtype: 'fp32' as const, mode: 'inference' as const };

function onlySite(text: string, language: ConfigLanguage = 'json') {
  const scan = configSites(text, language);
  assert.deepEqual(scan.problems, []);
  assert.equal(scan.sites.length, 1);
  return scan.sites[0];
}

test('Hugging Face config.json of six public models and the tiny BERT', () => {
  const cases: [string, object][] = [
    ['bert-base-uncased.json', { layers: 12, heads: 12, hidden: 768, maxPositions: 512, causal: false }],
    ['gpt2.json', { layers: 12, heads: 12, hidden: 768, maxPositions: 1024, causal: true }],
    ['distilbert-base-uncased.json', { layers: 6, heads: 12, hidden: 768, maxPositions: 512, causal: false }],
    ['t5-small.json', { layers: 6, heads: 8, headDim: 64, hidden: 512, maxPositions: 512, causal: false }],
    ['Llama-2-7b-hf.json', { layers: 32, heads: 32, kvHeads: 32, hidden: 4096, maxPositions: 4096, causal: true }],
    ['Meta-Llama-3-8B.json', { layers: 32, heads: 32, kvHeads: 8, hidden: 4096, maxPositions: 8192, causal: true }],
  ];
  for (const [file, dims] of cases) {
    const site = onlySite(fixture(file));
    // the sizes; the weights, windows and dtype read beside them are tested in memoryArchitectures.test.ts
    assert.deepEqual(Object.fromEntries(Object.keys(dims).map((k) => [k, site.dims[k as keyof typeof site.dims]])), dims, file);
    assert.deepEqual(site.missing, []);
  }
  const tiny = onlySite(readFileSync(join(TINY_BERT, 'config.json'), 'utf8'));
  assert.equal(tiny.dims.layers, 2);
  assert.equal(tiny.dims.heads, 4);
  assert.equal(tiny.dims.hidden, 64);
  assert.equal(tiny.dims.maxPositions, 128);
});

test('a config gives the estimate at its max positions: BERT-base 12 MiB a layer, Llama-3-8B grouped keys', () => {
  const bert = attentionShape(onlySite(fixture('bert-base-uncased.json')).dims, settings);
  assert.ok('shape' in bert);
  assert.equal(binaryBytes(denseEstimate(bert.shape).attentionBytesPerLayer), '12 MiB');
  assert.equal(bert.shape.headDim, 64);
  const llama = attentionShape(onlySite(fixture('Meta-Llama-3-8B.json')).dims, { ...settings, dtype: 'bf16' });
  assert.ok('shape' in llama);
  assert.equal(llama.shape.headDim, 128);
  assert.equal(binaryBytes(denseEstimate(llama.shape).kvCacheBytes), '1 GiB');
});

test('YAML: the mapping that holds the model, with its place in the file', () => {
  const text = fixture('train.yaml');
  const site = onlySite(text, 'yaml');
  assert.equal(site.label, 'model');
  assert.deepEqual(site.dims, { layers: 6, heads: 8, hidden: 512, maxPositions: 1024, causal: false });
  assert.ok(text.slice(site.from, site.to).startsWith('model_type: bert'));
});

test('Python: config calls, PyTorch modules, stacked layers and module-level sizes', () => {
  const text = fixture('model.py');
  const scan = configSites(text, 'python');
  assert.deepEqual(scan.problems, []);
  const found = scan.sites.map((s) => [s.label, s.dims.layers, s.dims.heads, s.dims.hidden, s.missing.length]);
  assert.deepEqual(found, [
    ['BertConfig(…)', 12, 12, 768, 0],
    ['GPT2Config(…)', 24, 16, 1024, 0],
    ['MultiheadAttention(…)', 1, 8, 512, 0],
    ['TransformerEncoderLayer(…)', 1, 4, 256, 0],
    ['TransformerEncoder(…)', 6, 4, 256, 0],
    ['BertConfig(…)', undefined, 4, 256, 1],
  ]);
  const partial = scan.sites[5];
  assert.deepEqual(partial.missing, ['the number of layers']);
  assert.ok(text.slice(partial.from, partial.to).startsWith('BertConfig(hidden_size=256'));
  assert.equal(scan.sites.find((s) => s.label === 'GPT2Config(…)')?.dims.causal, true);
});

test('malformed files and bad values give a message, never an exception', () => {
  assert.match(configSites('{"hidden_size": 768,, }', 'json').problems[0], /^JSON error at line 1, column \d+/);
  assert.match(configSites('model:\n  hidden_size: [768\n', 'yaml').problems[0], /^YAML error at line \d+/);
  const py = configSites('cfg = BertConfig(hidden_size=768, num_attention_heads=12, num_hidden_layers=12)\ndef broken(:\n', 'python');
  assert.match(py.problems[0], /^Python syntax error at line 2/);
  assert.equal(py.sites.length, 1);
  const zero = onlySite('{"hidden_size": 0, "num_attention_heads": -4, "num_hidden_layers": 12}');
  assert.deepEqual(zero.missing, ['a positive whole heads (it is -4)', 'a positive whole hidden (it is 0)']);
  const noPositions = attentionShape(onlySite('{"hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2}').dims, settings);
  assert.deepEqual(noPositions, { missing: ['a sequence length (the config has no max positions: set one)'] });
  const uneven = attentionShape(onlySite('{"hidden_size": 100, "num_attention_heads": 3, "num_hidden_layers": 2}').dims, { ...settings, seq: 8 });
  assert.deepEqual(uneven, { missing: ['a head dimension: hidden size 100 is not a multiple of 3 heads'] });
  assert.deepEqual(configSites('{"name": "not a model", "lr": 0.1}', 'json').sites, []);
});

test('Python: module-level sizes form a config of their own when no call uses them', () => {
  const site = onlySite('D_MODEL = 512\nN_HEAD = 8\nN_LAYER = 6\nBLOCK_SIZE = 1024\n\ndef train():\n    pass\n', 'python');
  assert.equal(site.label, 'module-level sizes');
  assert.deepEqual(site.dims, { layers: 6, heads: 8, hidden: 512, maxPositions: 1024, causal: false });
});

test('after an edit, a Python reparse from the old tree finds what a fresh parse finds', () => {
  const text = fixture('model.py');
  const first = configSites(text, 'python');
  const at = text.indexOf('n_layer=24') + 'n_layer='.length;
  const edited = text.slice(0, at) + '36' + text.slice(at + 2);
  const insertAt = text.indexOf('partial =');
  const edited2 = edited.slice(0, insertAt) + 'extra = GPT2Config(n_embd=64, n_head=2, n_layer=2)\n' + edited.slice(insertAt);
  const fragments = fragmentsAfter(first.tree!, [
    { from: at, to: at + 2, insertedLength: 2 },
    { from: insertAt, to: insertAt, insertedLength: 'extra = GPT2Config(n_embd=64, n_head=2, n_layer=2)\n'.length },
  ]);
  const incremental = configSites(edited2, 'python', fragments);
  const fresh = configSites(edited2, 'python');
  const view = (s: ConfigScan) => s.sites.map((x) => [x.label, x.from, x.to, x.dims]);
  assert.deepEqual(view(incremental), view(fresh));
  assert.equal(incremental.sites.find((x) => x.label === 'GPT2Config(…)')?.dims.layers, 36);
  assert.equal(incremental.sites.length, first.sites.length + 1);
});

test('JSON with comments (jsonc) reads; its errors say where', () => {
  const site = onlySite('// model\n{\n  "hidden_size": 64, /* small */\n  "num_attention_heads": 4,\n  "num_hidden_layers": 2\n}\n');
  assert.equal(site.dims.hidden, 64);
  assert.match(configSites('{\n  "hidden_size": 64\n  "num_attention_heads": 4\n}', 'json').problems[0], /^JSON error at line 3, column 3: CommaExpected/);
});

test('bundled as the extension is, a Python rescan after an edit reuses the previous tree', () => {
  // The bundle resolves imports and requires separately: a second copy of @lezer/common once made
  // the parser ignore the fragments and parse the whole file again on every edit.
  const outfile = join(REPO, 'test-output', 'configSites.bundle.js');
  buildSync({ entryPoints: [join(REPO, 'src', 'memory', 'configSites.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', mainFields: ['module', 'main'], logLevel: 'silent' });
  const bundled = require(outfile) as typeof import('../../src/memory/configSites');
  const text = Array.from({ length: 300 }, (_, i) => `def step_${i}(x):\n    return x * ${i}\n`).join('') + 'cfg = BertConfig(hidden_size=768, num_attention_heads=12, num_hidden_layers=12)\n';
  const first = bundled.configSites(text, 'python');
  const at = text.indexOf('num_hidden_layers=12') + 'num_hidden_layers='.length;
  const edited = bundled.configSites(text.slice(0, at) + '24' + text.slice(at + 2), 'python', bundled.fragmentsAfter(first.tree!, [{ from: at, to: at + 2, insertedLength: 2 }]));
  assert.equal(edited.sites[0].dims.layers, 24);
  // subtrees of the new tree that are the very objects of the previous one were taken over, not parsed again
  type Node = { children?: readonly unknown[] };
  const nodes = (t: Node, out = new Set<unknown>()): Set<unknown> => {
    out.add(t);
    for (const c of t.children ?? []) nodes(c as Node, out);
    return out;
  };
  const before = nodes(first.tree! as Node);
  const after = [...nodes(edited.tree! as Node)];
  assert.ok(after.filter((x) => before.has(x)).length > after.length / 2, 'most of the tree is reused');
});
