import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttentionShape, memoryEstimate } from '../../src/memory/attentionMemory';
import { configSites } from '../../src/memory/configSites';
import { memoryChart, memoryLensTitle, memoryMarkdown, memoryRows, siteEstimate } from '../../src/memory/memoryReport';

const bert: AttentionShape = { layers: 12, heads: 12, kvHeads: 12, headDim: 64, hidden: 768, seq: 512, batch: 1, dtype: 'fp32', mode: 'inference', causal: false };

test('the CodeLens line and the hover table of BERT-base', () => {
  const e = memoryEstimate(bert);
  assert.equal(memoryLensTitle(e), 'attention at n=512: 12 MiB/layer, 144 MiB in all (fp32, batch 1)');
  const md = memoryMarkdown(e);
  assert.match(md, /\| Dense \| 3\.15e6 \| 144 MiB \(151 MB\) \| 805 MFLOP \| 512 \|/);
  assert.match(md, /training activations \(Korthikanti et al\., 16-bit\) 27\.75 MiB \(29\.1 MB\)\/layer, of which attention 15 MiB \(15\.7 MB\)/);
  assert.equal(memoryRows(e).length, 9);
  for (const label of ['Sparse Transformer, strided', 'Sparse Transformer, fixed', 'Local window', 'Adaptive span', 'Reformer LSH', 'Routing', 'Transformer-XL', 'Compressive']) {
    assert.ok(md.includes(`| ${label} |`), label);
  }
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
});

test('a config site: its lens line, an assumed n said out loud, and what is missing', () => {
  const settings = { batch: 1, dtype: 'fp32' as const, mode: 'inference' as const };
  const [mha, partial] = configSites('attn = nn.MultiheadAttention(512, 8)\ncfg = BertConfig(hidden_size=256, num_attention_heads=4)\n', 'python').sites;
  const e = siteEstimate(mha, settings);
  assert.ok('title' in e);
  assert.equal(e.title, 'attention at n=512: 8 MiB/layer, 8 MiB in all (fp32, batch 1) · n=512 assumed: set attentionLens.sequenceLength');
  const set = siteEstimate(mha, { ...settings, seq: 1024 });
  assert.ok('title' in set && set.title === 'attention at n=1024: 32 MiB/layer, 32 MiB in all (fp32, batch 1)');
  assert.deepEqual(siteEstimate(partial, settings), { problem: 'BertConfig(…): missing the number of layers' });
  const zeroBatch = siteEstimate(mha, { ...settings, batch: 0 });
  assert.deepEqual(zeroBatch, { problem: 'MultiheadAttention(…): batch must be a positive whole number, not 0' });
});
