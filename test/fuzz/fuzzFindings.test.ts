// What the fuzz suite found, each as its minimal case: negative numbers given to options (a
// three-line message of parseArgs), a config whose sizes are 1e308 and one nested 10,000 deep
// (internal failures: an array too long, the stack overflowed), a --tokenizer that is a loop
// of links (a raw ELOOP).
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { refuses } from '../helpers/cliRefusal';

test('a negative number is the value of the option before it, refused in one line by what the option takes', () => {
  refuses(['memory', '--layers', '12', '--heads', '-1', '--hidden', '768', '--seq', '8'], /--heads takes a positive whole number, not '-1'/);
  refuses(['memory', '--layers', '12', '--heads', '12', '--hidden', '768', '--seq', '8', '--batch', '--'], /--batch takes a positive whole number, not '--'/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--lab', '--seed', '-3'], /--seed takes .*not '-3'/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--segment'], /^attention-lens: Option '--segment <value>' argument missing$/);
});

const dir = mkdtempSync(join(tmpdir(), 'attention-lens-findings-'));

test('a config whose sizes are beyond any model (1e308, 2^30 heads), or nested 10,000 deep, is refused in one line', () => {
  const config = (name: string, sizes: object): string => (writeFileSync(join(dir, name), JSON.stringify(sizes)), join(dir, name));
  refuses(['memory', '--config', config('huge.json', { hidden_size: 1e308, num_attention_heads: 1e300, num_hidden_layers: 1e308, max_position_embeddings: 1e308 })], /must be a positive whole number, not 1e\+30\d/);
  refuses(['memory', '--config', config('heads.json', { hidden_size: 2 ** 30, num_attention_heads: 2 ** 30, num_hidden_layers: 2, max_position_embeddings: 8 })], /heads must be at most 1048576, not 1073741824/);
  writeFileSync(join(dir, 'deep.json'), '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));
  refuses(['memory', '--config', join(dir, 'deep.json')], /deep\.json: the JSON nests deeper than 256 levels: not a model configuration/);
});

test('a --tokenizer that is a loop of links is named in one line', () => {
  symlinkSync(join(dir, 'loop.txt'), join(dir, 'loop.txt'));
  refuses(['analyze', '--model', 'demo', '--tokenizer', join(dir, 'loop.txt'), '--text', 'a fox'], /the tokenizer .*loop\.txt is a loop of symbolic links/);
});
