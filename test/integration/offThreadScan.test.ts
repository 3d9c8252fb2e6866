// Large config documents are scanned on a worker thread: the same sites, training keys and
// problems as a scan on the editor's thread.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configSites } from '../../src/memory/configSites';
import { OFF_THREAD_SCAN_CHARS, OffThreadScanner } from '../../src/memory/offThreadScan';
import { REPO } from '../helpers/paths';

test('a large YAML, JSON and Python config scanned on the worker thread gives what a scan here gives', async () => {
  const scanner = new OffThreadScanner(join(REPO, 'dist', 'configScanWorker.js'));
  try {
    const mistral = readFileSync(join(REPO, 'test', 'fixtures', 'configs', 'Mistral-7B-v0.1.json'), 'utf8');
    // a model's config among 300 KiB of other settings
    const padding = Array.from({ length: 20_000 }, (_, i) => `  setting_${i}: ${i}`).join('\n');
    const yaml = `training:\n  seq_len: 4096\nother:\n${padding}\nmodel:\n  hidden_size: 768\n  num_attention_heads: 12\n  num_hidden_layers: 12\n`;
    const json = JSON.stringify({ ...JSON.parse(mistral), table: Array(80_000).fill(0.5) });
    const python = `${Array.from({ length: 30_000 }, (_, i) => `x_${i} = ${i}`).join('\n')}\ncfg = BertConfig(hidden_size=1024, num_attention_heads=16, num_hidden_layers=24)\n`;
    for (const [text, language] of [[yaml, 'yaml'], [json, 'json'], [python, 'python']] as const) {
      assert.ok(text.length > OFF_THREAD_SCAN_CHARS, `${language} is large enough to go off the thread`);
      const { tree: _tree, ...here } = configSites(text, language);
      const there = await scanner.scan(text, language);
      assert.deepEqual(there, here, language);
      assert.ok(there.sites.length >= 1, `${language}: its config is found`);
    }
    // a parse failure comes back as the file's problem, as here
    const broken = `{"hidden_size": 768, ${'"x": 1, '.repeat(40_000)}`;
    assert.deepEqual((await scanner.scan(broken, 'json')).problems, configSites(broken, 'json').problems);
  } finally {
    scanner.dispose();
  }
});

