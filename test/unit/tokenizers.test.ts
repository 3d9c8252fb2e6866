import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HfTokenizer } from '../../src/model/hfTokenizer';
import { WordPieceTokenizer } from '../../src/model/wordPiece';
import { TINY_BERT } from '../helpers/paths';

const vocabText = readFileSync(join(TINY_BERT, 'vocab.txt'), 'utf8');
const reference = JSON.parse(readFileSync(join(TINY_BERT, 'reference.json'), 'utf8')) as { text: string; tokens: string[]; input_ids: number[] };

test('WordPiece reproduces the reference tokens and ids of bert-base-uncased', () => {
  const t = new WordPieceTokenizer(vocabText).encode(reference.text);
  assert.deepEqual(t.tokens, reference.tokens);
  assert.deepEqual(t.ids, reference.input_ids);
});

test('WordPiece keeps character offsets through lower-casing, accents and split words', () => {
  const text = 'Café  Übermensch, tokenization!';
  const t = new WordPieceTokenizer(vocabText).encode(text);
  const pieces = t.tokens.map((tok, i) => [tok, text.slice(...t.offsets[i])]);
  assert.deepEqual(pieces[0], ['[CLS]', '']);
  assert.deepEqual(pieces[1], ['cafe', 'Café']);
  assert.ok(pieces.some(([tok, s]) => tok === 'token' && s === 'token'));
  assert.ok(pieces.some(([tok, s]) => tok === '##ization' && s === 'ization'));
  assert.deepEqual(pieces.at(-2), ['!', '!']);
  assert.deepEqual(pieces.at(-1), ['[SEP]', '']);
});

test('WordPiece gives [UNK] for words it cannot spell and refuses a vocabulary without [CLS]', () => {
  const t = new WordPieceTokenizer(vocabText).encode('漢字 ☃');
  assert.ok(t.tokens.includes('[UNK]'));
  assert.throws(() => new WordPieceTokenizer('a\nb\n'), /no \[UNK\] token/);
});

function bertTokenizerJson(): string {
  const vocab: Record<string, number> = {};
  vocabText.split('\n').forEach((t, i) => {
    if (t && !(t in vocab)) vocab[t] = i;
  });
  return JSON.stringify({
    version: '1.0',
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content) => ({ id: vocab[content], content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', vocab['[SEP]']], cls: ['[CLS]', vocab['[CLS]']] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

test('tokenizer.json gives the same ids as vocab.txt, with offsets found in the text', () => {
  const hf = new HfTokenizer(bertTokenizerJson());
  const text = 'The Quick brown fox, tokenization!';
  const a = hf.encode(text);
  const b = new WordPieceTokenizer(vocabText).encode(text);
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.offsets, b.offsets);
  assert.equal(hf.addsSpecialTokens, true);
  assert.equal(hf.vocabSize, 30522);
});

test('special tokens written in the text are single tokens with their own characters (the masked-LM workflow)', () => {
  const text = 'The capital of France is [MASK]. [SEP] Paris[UNK]';
  for (const t of [new WordPieceTokenizer(vocabText).encode(text), new HfTokenizer(bertTokenizerJson()).encode(text)]) {
    const at = t.tokens.indexOf('[MASK]');
    assert.ok(at > 0, t.tokens.join(' '));
    assert.equal(t.ids[at], 103);
    assert.equal(text.slice(...t.offsets[at]), '[MASK]');
    assert.equal(t.special[at], true);
    assert.deepEqual(t.tokens.slice(at + 1, at + 3), ['.', '[SEP]']);
    assert.equal(t.tokens.at(-2), '[UNK]');
    assert.equal(text.slice(...t.offsets[t.tokens.length - 2]), '[UNK]');
  }
  // lower case does not reach inside a special token, and a token named by special_tokens_map.json counts too
  const withExtra = new WordPieceTokenizer(vocabText, true, ['[unused1]']).encode('a [unused1] b [mask]');
  assert.deepEqual(withExtra.tokens, ['[CLS]', 'a', '[unused1]', 'b', '[', 'mask', ']', '[SEP]']);
});

test('a broken tokenizer.json is reported as such', () => {
  assert.throws(() => new HfTokenizer('{not json'), /tokenizer.json is not valid JSON/);
});

/** GPT-2's byte-to-character table: printable bytes stand for themselves, the rest move to U+0100 on. */
function byteChars(): string[] {
  const keep = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + extra++));
}

test('a byte-level BPE tokenizer.json (GPT-2 style) adds no [CLS]/[SEP] and keeps offsets', () => {
  const chars = byteChars();
  const merged = ['Ġt', 'he', 'Ġthe', 'wo', 'rl', 'worl', 'world'];
  const vocab: Record<string, number> = {};
  [...chars, ...merged].forEach((t, i) => (vocab[t] = i));
  const endOfText = Object.keys(vocab).length;
  const json = JSON.stringify({
    version: '1.0',
    added_tokens: [{ id: endOfText, content: '<|endoftext|>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: ['Ġ t', 'h e', 'Ġt he', 'w o', 'r l', 'wo rl', 'worl d'] },
  });
  const hf = new HfTokenizer(json);
  assert.equal(hf.addsSpecialTokens, false);
  const text = 'Hi the world!';
  const t = hf.encode(text);
  assert.deepEqual(t.tokens, ['H', 'i', 'Ġthe', 'Ġ', 'world', '!']);
  assert.deepEqual(t.tokens.map((_, i) => text.slice(...t.offsets[i])), ['H', 'i', 'the', '', 'world', '!']);
  assert.equal(t.special.some(Boolean), false);
  // what the induction probe starts with and never draws: the BOS tokenizer_config.json names, the special tokens
  assert.equal(hf.bosId, undefined);
  assert.deepEqual([...hf.specialIds], [endOfText]);
  assert.equal(new HfTokenizer(json, JSON.stringify({ bos_token: { content: '<|endoftext|>' } })).bosId, endOfText);
});

test('a BERT vocabulary begins texts with [CLS] and keeps its special and reserved entries out of random draws', () => {
  const wp = new WordPieceTokenizer(vocabText);
  assert.equal(wp.bosId, 101);
  for (const id of [0, 1, 100, 101, 102, 103, 998]) assert.ok(wp.specialIds.has(id), `${id}: ${wp.idToToken(id)}`);
  assert.equal(wp.specialIds.has(wp.tokenId('the')!), false);
  assert.equal(new HfTokenizer(bertTokenizerJson(), JSON.stringify({ cls_token: '[CLS]' })).bosId, 101);
});
