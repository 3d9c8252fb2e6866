import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AttentionShape, memoryEstimate } from '../../src/memory/attentionMemory';
import { configSites } from '../../src/memory/configSites';
import { configFileChart, memoryChart, memoryLensTitle, memoryMarkdown, memoryRows, siteEstimate } from '../../src/memory/memoryReport';
import { REPO } from '../helpers/paths';

const bert: AttentionShape = { layers: 12, heads: 12, kvHeads: 12, headDim: 64, hidden: 768, seq: 512, batch: 1, dtype: 'fp32', mode: 'inference', causal: false };

test('the CodeLens line and the hover table of BERT-base: what inference and training hold', () => {
  const e = memoryEstimate(bert);
  assert.equal(memoryLensTitle(e), 'inference at n=512, fp32: no KV cache (encoder), attention scores 12 MiB/layer (fused kernel: none)');
  assert.equal(
    memoryLensTitle(memoryEstimate({ ...bert, mode: 'training' })),
    'training at n=512, fp32: activations 333 MiB over 12 layers, probabilities 180 MiB of it (fused kernel: none)',
  );
  assert.equal(memoryLensTitle(memoryEstimate({ ...bert, fusedKernel: true, batch: 8 })), 'inference at n=512, fp32, batch 8: no KV cache (encoder), attention scores: none (fused kernel)');
  const md = memoryMarkdown(e);
  assert.match(md, /\| attention scores, largest layer \| 12 MiB \|/);
  assert.match(md, /\| self \| 12 \| 512 × 512 \| 12 MiB \| none \|/);
  assert.match(md, /\| Dense \| 144 MiB \| \|/);
  assert.equal(memoryRows(e).length, 9);
  // the methods one line each, the biggest differences from dense first
  const ratios = [...md.matchAll(/\| ([\d.]+)× (more|less) \|/g)].map(([, r, way]) => Math.abs(Math.log(way === 'more' ? Number(r) : 1 / Number(r))));
  assert.equal(ratios.length, 8);
  assert.deepEqual(ratios, [...ratios].sort((a, b) => b - a));
  for (const label of ['Sparse Transformer, strided', 'Sparse Transformer, fixed', 'Local window', 'Adaptive span', 'Reformer LSH', 'Routing', 'Transformer-XL', 'Compressive']) {
    assert.ok(md.includes(`| ${label} |`), label);
  }
  // narrow enough for a 500 px hover: no table line longer than 80 characters
  for (const line of md.split('\n').filter((l) => l.startsWith('|'))) assert.ok(line.length <= 80, line);
});

test('the memory chart brackets the user n on a doubling grid, dense growing as n squared', () => {
  const c = memoryChart({ ...bert, seq: 3000 });
  const dense = c.series.find((s) => s.method === 'dense')!;
  assert.ok(dense.seq.includes(3000));
  assert.equal(dense.seq[0], 64);
  assert.equal(dense.seq.at(-1), 2 ** 17);
  const i = dense.seq.indexOf(1024);
  assert.equal(dense.bytes[i + 1] / dense.bytes[i], 4);
  assert.equal(dense.bytesText[dense.seq.indexOf(512)], '144 MiB (151 MB)');
  assert.equal(c.series.length, 9);
  assert.deepEqual(c.byteTicks.text.slice(0, 3), ['1 B', '1 KiB', '1 MiB']);
  assert.equal(c.table.rows.length, 9);
  // every figure with its unit, no fractional counts
  assert.deepEqual(c.table.rows[0].slice(0, 2), ['Dense', '12 floats'.replace('12', (12 * 3000 * 3000).toLocaleString('en-US'))]);
  for (const row of c.table.rows) assert.ok(!/\d\.\d+ (floats|tokens)/.test(row.join(' ')), row.join(' '));
  assert.deepEqual(c.peak.at(-1), ['peak without weights', c.peak.at(-1)![1]]);
});

test('a config site: its lens line, an assumed n said out loud, and what is missing', () => {
  const settings = { batch: 1, dtype: 'fp32' as const, mode: 'inference' as const };
  const [mha, partial] = configSites('attn = nn.MultiheadAttention(512, 8)\ncfg = BertConfig(hidden_size=256, num_attention_heads=4)\n', 'python').sites;
  const e = siteEstimate(mha, settings);
  assert.ok('title' in e);
  assert.equal(e.title, 'inference at n=512, fp32: no KV cache (encoder), attention scores 8 MiB/layer (fused kernel: none) · n=512 assumed: set attentionLens.sequenceLength');
  const set = siteEstimate(mha, { ...settings, seq: 1024 });
  assert.ok('title' in set && set.title === 'inference at n=1024, fp32: no KV cache (encoder), attention scores 32 MiB/layer (fused kernel: none)');
  assert.deepEqual(siteEstimate(partial, settings), { problem: 'BertConfig(…): missing the number of layers' });
  const zeroBatch = siteEstimate(mha, { ...settings, batch: 0 });
  assert.deepEqual(zeroBatch, { problem: 'MultiheadAttention(…): batch must be a positive whole number, not 0' });
});

test("a config file's own estimate (the profiler's Estimate tab): its first complete configuration, or why there is none", () => {
  const text = readFileSync(join(REPO, 'test', 'fixtures', 'configs', 'bert-base-uncased.json'), 'utf8');
  const chart = configFileChart(text, { mode: 'inference' });
  assert.ok(!('problem' in chart));
  assert.equal(chart.title, 'inference at n=512, fp32: no KV cache (encoder), attention scores 12 MiB/layer (fused kernel: none)');
  const at128 = configFileChart(text, { mode: 'inference', seq: 128 });
  assert.ok('title' in at128 && at128.title.startsWith('inference at n=128'));
  assert.deepEqual(configFileChart('{"name": "not a model"}', { mode: 'inference' }), { problem: 'the file holds no model configuration' });
});
