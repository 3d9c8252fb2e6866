import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttentionShape, memoryEstimate } from '../../src/memory/attentionMemory';
import { memoryChart, memoryLensTitle, memoryMarkdown, memoryRows } from '../../src/memory/memoryReport';

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
