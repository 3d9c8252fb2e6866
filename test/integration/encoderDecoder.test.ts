// Encoder-decoder models: optimum's encoder_model.onnx + decoder_model.onnx run together (the
// decoder on the encoder's output), and the same weights as one graph, which is their oracle.
// The encoder's self-attention, the decoder's and its cross-attention come out labelled, with
// rectangular cross-attention through the analysis, the CLI's JSON and the head map.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { AUDIO_MELS, TINY_SEQ2SEQ_SHAPE, audioEncoderModel, seq2seqModels } from '../../src/model/builder/seq2seqModels';
import { LoadedModel } from '../../src/model/capture';
import { futureMass, worstRowSumError } from '../helpers/attentionChecks';
import { CLI, SPECIMEN } from '../helpers/paths';

process.env.ORT_DISABLE_TELEMETRY = '1';
const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-seq2seq-'));
const models = seq2seqModels();
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'le', 'chat', 'est', 'assis', 'sur', 'tapis', '.'];
// a WordPiece vocabulary within the models' 60 rows: [CLS] (2) is the decoder's start, as BART's </s> is
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS];
const CONFIG = { model_type: 'marian', decoder_start_token_id: 2, max_position_embeddings: TINY_SEQ2SEQ_SHAPE.maxPositions };

function folder(name: string, files: Record<string, Uint8Array | string>): string {
  const dir = join(scratch, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return dir;
}

const beside = { 'vocab.txt': VOCAB.join('\n') + '\n', 'config.json': JSON.stringify(CONFIG) };
const twoFiles = folder('two-files', { 'onnx/encoder_model.onnx': models.encoder.model, 'onnx/decoder_model.onnx': models.decoder.model, ...beside });
const oneGraph = folder('one-graph', { 'model.onnx': models.single.model, ...beside });
// optimum's folder: both decoders, the merged one chosen
const optimum = folder('optimum', { 'onnx/encoder_model.onnx': models.encoder.model, 'onnx/decoder_model.onnx': models.decoder.model, 'onnx/decoder_model_merged.onnx': models.merged.model, ...beside });
const SOURCE = 'the cat sat on the mat.';
const TARGET = 'le chat est assis sur le tapis.';

test('encoder-decoder in two files: the encoder, the decoder and the cross-attention are found, labelled and shaped', async () => {
  const m = await LoadedModel.load({ model: twoFiles, executionProvider: 'cpu' });
  assert.match(m.info.path, /onnx\/encoder_model\.onnx$/);
  assert.match(m.info.decoder!.path, /onnx\/decoder_model\.onnx$/);
  assert.deepEqual(m.info.decoder!.inputs.map((i) => [i.name, i.role]), [
    ['encoder_attention_mask', 'encoderMask'],
    ['input_ids', 'ids'],
    ['encoder_hidden_states', 'encoderStates'],
  ]);
  assert.equal(m.info.decoderStartId, 2);
  assert.deepEqual(m.info.attention.map((a) => a.part), ['encoder', 'encoder', 'decoder', 'cross', 'decoder', 'cross']);
  assert.deepEqual(m.info.headsPerLayer, [2, 2, 2, 2, 2, 2]);
  const c = await m.capture({ text: SOURCE, targetText: TARGET, includeQueryKey: true });
  const n = c.tokens.length;
  assert.deepEqual(c.tokens, ['[CLS]', 'the', 'cat', 'sat', 'on', 'the', 'mat', '.', '[SEP]']);
  assert.deepEqual(c.target!.tokens, ['[CLS]', '[CLS]', 'le', 'chat', 'est', 'assis', 'sur', 'le', 'tapis', '.', '[SEP]'], 'the start token, then the target as the tokenizer encodes it');
  const m2 = c.target!.tokens.length;
  assert.deepEqual(c.layers.map((l) => [l.part, l.queries, l.keys]), [
    ['encoder', n, n],
    ['encoder', n, n],
    ['decoder', m2, m2],
    ['cross', m2, n],
    ['decoder', m2, m2],
    ['cross', m2, n],
  ]);
  for (const l of c.layers) {
    assert.ok(worstRowSumError(l) < 1e-5, `${l.name}: rows sum to 1`);
    if (l.part === 'decoder') assert.ok(futureMass(l) < 1e-6, `${l.name} is causal`);
    if (l.part === 'encoder') assert.ok(futureMass(l) > 0.1, `${l.name} sees both ways`);
  }
  const cross = c.layers[3];
  assert.deepEqual([cross.query?.positions, cross.key?.positions], [m2, n], "cross-attention's queries are the target's, its keys the source's");
  await m.release();
});

test('encoder-decoder: two files, a merged decoder and one graph of the same weights give the same attention; the cross-attention reads the real encoder output', async () => {
  const two = await LoadedModel.load({ model: twoFiles, executionProvider: 'cpu' });
  const one = await LoadedModel.load({ model: oneGraph, executionProvider: 'cpu' });
  const merged = await LoadedModel.load({ model: optimum, executionProvider: 'cpu' });
  assert.deepEqual(one.info.inputs.find((i) => i.name === 'decoder_input_ids')?.role, 'targetIds');
  assert.match(merged.info.decoder!.path, /decoder_model_merged\.onnx$/);
  assert.ok(merged.info.variants.some((v) => v.endsWith('decoder_model.onnx')));
  for (const m of [one, merged]) assert.deepEqual(m.info.attention.map((a) => a.part), ['encoder', 'encoder', 'decoder', 'cross', 'decoder', 'cross']);
  assert.deepEqual(merged.info.attention.slice(2).map((a) => a.inBranch), Array(4).fill('optimum::if'), "the merged decoder's attention is in its If, the prompt's branch run");
  const a = await two.capture({ text: SOURCE, targetText: TARGET });
  for (const twin of [one, merged]) {
    const b = await twin.capture({ text: SOURCE, targetText: TARGET });
    assert.deepEqual(b.target, a.target);
    a.layers.forEach((l, i) => {
      let worst = 0;
      for (let k = 0; k < l.probs.length; k++) worst = Math.max(worst, Math.abs(l.probs[k] - b.layers[i].probs[k]));
      assert.ok(worst <= 1e-5, `${twin.info.path} ${l.name}: ${worst}`);
    });
  }
  await merged.release();
  // Another source changes the cross-attention and what follows it, never the first decoder layer's self-attention.
  const other = await two.capture({ text: 'the mat sat on the cat.', targetText: TARGET });
  assert.deepEqual(Array.from(other.layers[2].probs), Array.from(a.layers[2].probs));
  assert.notDeepEqual(Array.from(other.layers[3].probs), Array.from(a.layers[3].probs));
  // Without a target the decoder reads its start token alone.
  const start = await two.capture({ text: SOURCE });
  assert.deepEqual(start.target!.tokens, ['[CLS]']);
  assert.deepEqual([start.layers[3].queries, start.layers[3].keys], [1, a.tokens.length]);
  // Chosen layers in any order, across the two files.
  const chosen = await two.capture({ text: SOURCE, targetText: TARGET, layers: [5, 0] });
  assert.deepEqual(chosen.layers.map((l) => l.name), [a.layers[5].name, a.layers[0].name]);
  assert.deepEqual(Array.from(chosen.layers[0].probs), Array.from(a.layers[5].probs));
  await Promise.all([two.release(), one.release()]);
});

test('encoder-decoder analysis: cross-attention heads have no offsets or spans, and heads are compared within their part', async () => {
  const m = await LoadedModel.load({ model: twoFiles, executionProvider: 'cpu' });
  const c = await m.capture({ text: SOURCE, targetText: TARGET });
  const a = analyzeCapture(c);
  const crossHeads = a.heads.filter((h) => c.layers[c.layerIndices.indexOf(h.layer)].part === 'cross');
  assert.equal(crossHeads.length, 4);
  for (const h of crossHeads) {
    assert.deepEqual([h.toPrev, h.toNext, h.toSelf, h.span90, h.meanDistance], [null, null, null, null, null]);
    assert.ok(Math.abs(h.uniformEntropyNats - Math.log(c.tokens.length)) < 1e-9, 'the uniform entropy of a row over the source');
    assert.ok(h.toSep > 0 && h.toSep < 1, 'attention to the source [SEP] is measured');
  }
  const decoderHead = a.heads.find((h) => h.layer === 2)!;
  assert.equal(decoderHead.toNext, null, "the decoder's self-attention is causal");
  assert.ok(decoderHead.toPrev !== null && decoderHead.span90 !== null);
  assert.equal(a.heads.find((h) => h.layer === 0)!.toNext !== null, true, "the encoder's is not");
  // offsets as far as the shorter text reaches; NaN rows for cross-attention
  const R = Math.min(c.tokens.length, c.target!.tokens.length) - 1;
  assert.equal(a.relative.offsets.length, 2 * R + 1);
  a.heads.forEach((h, k) => assert.equal(a.relative.profile[k].every(Number.isNaN), crossHeads.includes(h)));
  // Jensen-Shannon within a part only: NaN between parts, a head at 0 from itself
  const jsd = a.headDistance!.jsd;
  const partOf = (k: number): string => c.layers[c.layerIndices.indexOf(a.heads[k].layer)].part!;
  for (let x = 0; x < jsd.length; x++) {
    for (let y = 0; y < jsd.length; y++) assert.equal(Number.isFinite(jsd[x][y]), partOf(x) === partOf(y), `${x}, ${y}`);
    assert.equal(jsd[x][x], 0);
  }
  assert.ok(a.headDistance!.embedding.every(([u, v]) => Number.isFinite(u) && Number.isFinite(v)));
  // word level: two texts, each cut into its words
  const words = analyzeCapture(c, { wordLevel: true });
  assert.equal(words.heads.length, a.heads.length);
  await m.release();
});

test('encoder-decoder in the CLI: --target-text, the JSON names each layer\'s part and shape, and bad inputs are refused', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const r = cli(['analyze', '--model', twoFiles, '--text', SOURCE, '--target-text', TARGET, '--ep', 'cpu']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.target.tokens.length, 11);
  assert.deepEqual(j.layers.map((l: { part: string; queries: number; keys: number }) => [l.part, l.queries, l.keys]).slice(2, 4), [
    ['decoder', 11, 11],
    ['cross', 11, 9],
  ]);
  assert.match(j.model.decoder.path, /decoder_model\.onnx$/);
  assert.equal(j.heads[6].toPrev, null);
  assert.equal(j.headDistance.jsd[0][6], null, 'no distance between an encoder head and a cross-attention head');
  const ids = cli(['analyze', '--model', twoFiles, '--ids', '5,6,7', '--target-ids', '2,8', '--ep', 'cpu']);
  assert.equal(ids.status, 0, ids.stderr);
  assert.deepEqual(JSON.parse(ids.stdout).target.inputIds, [2, 8]);
  const refused = (args: string[], message: RegExp): void => {
    const x = cli(args);
    assert.equal(x.status, 2, x.stderr);
    assert.match(x.stderr.trim(), message);
    assert.equal(x.stderr.trim().split('\n').length, 1);
  };
  refused(['analyze', '--model', SPECIMEN, '--text', 'a fox', '--target-text', 'un renard'], /model\.onnx is not an encoder-decoder: it takes no target text/);
  refused(['analyze', '--model', twoFiles, '--text', SOURCE, '--target-ids', '2,999'], /target token id 999 is outside the model's vocabulary/);
  refused(['analyze', '--model', twoFiles, '--text', SOURCE, '--target-text', Array(40).fill('chat').join(' ')], /the target text is 4\d tokens long but the model takes at most 32 positions/);
  const noStart = folder('no-start', { 'onnx/encoder_model.onnx': models.encoder.model, 'onnx/decoder_model.onnx': models.decoder.model, 'vocab.txt': beside['vocab.txt'] });
  refused(['analyze', '--model', noStart, '--text', SOURCE], /names no decoder_start_token_id, so the decoder's first token is unknown: give the decoder's ids with --target-ids/);
  refused(['analyze', '--model', twoFiles, '--text', SOURCE, '--segment', '2'], /segment recurrence runs a decoder-only model through its cache; this is an encoder-decoder/);
});

/** A NumPy .npy file of float32 values (C order), as numpy.save writes it. */
function npy(values: Float32Array, dims: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const start = Buffer.alloc(10);
  start.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  start.writeUInt16LE(header.length, 8);
  return Buffer.concat([start, Buffer.from(header, 'latin1'), Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
}

test('a Whisper-like encoder-decoder runs on log-mel features (--input-features FILE.npy): its positions, the decoder on them, and cross-attention over them', async () => {
  const audio = folder('audio', { 'onnx/encoder_model.onnx': audioEncoderModel().model, 'onnx/decoder_model.onnx': models.decoder.model, ...beside });
  const frames = 20;
  const features = (phase: number): string => {
    const path = join(scratch, `features-${phase}.npy`);
    writeFileSync(path, npy(Float32Array.from({ length: AUDIO_MELS * frames }, (_, i) => Math.sin(i * 0.37 + phase)), [AUDIO_MELS, frames]));
    return path;
  };
  const m = await LoadedModel.load({ model: audio, executionProvider: 'cpu' });
  assert.deepEqual(m.info.inputs.map((i) => [i.name, i.role]), [['input_features', 'features']]);
  assert.deepEqual(m.info.attention.map((a) => a.part), ['encoder', 'encoder', 'decoder', 'cross', 'decoder', 'cross']);
  await assert.rejects(m.capture({ text: 'the cat' }), /input_features takes audio features \(a Whisper-style encoder\), not a text: give them with --input-features FILE\.npy/);
  const a = await m.capture({ inputFeatures: features(0), targetText: TARGET });
  // two frames a position: 10 positions, labelled by their index
  assert.deepEqual(a.tokens, Array.from({ length: 10 }, (_, i) => `${i}`));
  assert.deepEqual(a.layers.map((l) => [l.part, l.queries, l.keys]).slice(0, 4), [['encoder', 10, 10], ['encoder', 10, 10], ['decoder', 11, 11], ['cross', 11, 10]]);
  for (const l of a.layers) assert.ok(worstRowSumError(l) < 1e-5);
  const b = await m.capture({ inputFeatures: features(1), targetText: TARGET });
  assert.notDeepEqual(Array.from(b.layers[3].probs), Array.from(a.layers[3].probs), 'other audio, other cross-attention');
  assert.deepEqual(Array.from(b.layers[2].probs), Array.from(a.layers[2].probs), "the first decoder layer's self-attention reads the target alone");
  // features of another model's mels, and a file that is not .npy
  const wrongMels = join(scratch, 'wrong-mels.npy');
  writeFileSync(wrongMels, npy(new Float32Array(80 * 4), [80, 4]));
  await assert.rejects(m.capture({ inputFeatures: wrongMels }), /the features in .*wrong-mels\.npy have the shape \[80, 4\], but input_features takes \[batch, 8, frames\] \(batch 1\)/);
  await assert.rejects(m.capture({ inputFeatures: join(audio, 'config.json') }), /config\.json is not a NumPy \.npy file/);
  await m.release();
  // the CLI
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', audio, '--input-features', features(0), '--target-text', TARGET, '--ep', 'cpu'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).layers.map((l: { part: string; keys: number }) => [l.part, l.keys])[3], ['cross', 10]);
});
