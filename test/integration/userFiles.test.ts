// Every file the tool reads goes through one check: a FIFO, a device or a folder where a file
// belongs is refused at once (never opened, so never blocking or read without end), and a file
// a model reads must lie in its folder once links are resolved, except for the Hugging Face
// cache's layout, whose snapshot files are links into the repository's blobs/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoadedModel } from '../../src/model/capture';
import { checkedUserFile } from '../../src/model/userFiles';
import { encoderGraphWithExternal } from '../helpers/externalSpecimen';
import { SPECIMEN } from '../helpers/paths';
import { refuses } from '../helpers/cliRefusal';

const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-files-'));
const fifo = (path: string): string => (execFileSync('mkfifo', [path]), path);
const load = (model: string, tokenizer?: string) => LoadedModel.load({ model, executionProvider: 'cpu', tokenizer });

/** A folder with the specimen's weights in an external data file, and its vocabulary. */
function externalFolder(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const m = encoderGraphWithExternal('model.onnx.data');
  writeFileSync(join(dir, 'model.onnx'), m.model);
  writeFileSync(join(dir, 'model.onnx.data'), m.externalData!);
  copyFileSync(join(SPECIMEN, 'vocab.txt'), join(dir, 'vocab.txt'));
  return dir;
}

test('FIFOs, devices and folders where a file belongs are refused by name, before anything opens them', async () => {
  assert.throws(() => checkedUserFile(fifo(join(scratch, 'pipe.onnx')), 'model'), /the model .*pipe\.onnx is a FIFO \(named pipe\), not a file/);
  assert.throws(() => checkedUserFile('/dev/zero', 'tokenizer'), /the tokenizer \/dev\/zero is a device, not a file/);
  assert.throws(() => checkedUserFile(scratch, 'text'), /is a folder, not a file/);
  assert.throws(() => checkedUserFile(join(scratch, 'nothing.txt'), 'text'), /does not exist/);
  const loop = join(scratch, 'loop');
  symlinkSync(loop, loop);
  assert.throws(() => checkedUserFile(loop, 'config'), /is a loop of symbolic links/);
  // beside a model: a FIFO as its vocabulary
  const dir = join(scratch, 'fifo-vocab');
  mkdirSync(dir);
  copyFileSync(join(SPECIMEN, 'model.onnx'), join(dir, 'model.onnx'));
  fifo(join(dir, 'vocab.txt'));
  await assert.rejects(load(dir), /the tokenizer .*vocab\.txt is a FIFO \(named pipe\), not a file/);
  await assert.rejects(load(SPECIMEN, '/dev/zero'), /the tokenizer \/dev\/zero is a device, not a file/);
  // the CLI: a FIFO as the text file, a folder as the JSON to write (refused before the run)
  refuses(['analyze', '--model', 'demo', '--text-file', fifo(join(scratch, 'text-pipe'))], /the text file .*text-pipe is a FIFO/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--json', scratch], /--json .* is a folder: name the file to write/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--json', join(scratch, 'no', 'such', 'report.json')], /the folder .*no\/such does not exist/);
  refuses(['memory', '--config', fifo(join(scratch, 'config.json'))], /the config .*config\.json is a FIFO/);
  refuses(['specimen', '--out', '/proc/attention-lens/specimen'], /--out .*: the folder \/proc\/attention-lens does not exist/);
});

test("a model's weights or tokenizer that lead outside its folder are refused; the Hugging Face cache's snapshot links into blobs/ load", async () => {
  // weights moved out of the folder, a link left in their place
  const out = externalFolder('weights-out');
  renameSync(join(out, 'model.onnx.data'), join(scratch, 'elsewhere.data'));
  symlinkSync(join(scratch, 'elsewhere.data'), join(out, 'model.onnx.data'));
  await assert.rejects(load(out), /the external weights .*model\.onnx\.data leads outside the model's folder \(to .*elsewhere\.data\)/);
  // a vocabulary linked from elsewhere, found beside the model
  const vocabOut = externalFolder('vocab-out');
  renameSync(join(vocabOut, 'vocab.txt'), join(scratch, 'vocab-elsewhere.txt'));
  symlinkSync(join(scratch, 'vocab-elsewhere.txt'), join(vocabOut, 'vocab.txt'));
  await assert.rejects(load(vocabOut), /the tokenizer .*vocab\.txt leads outside the model's folder/);
  // named by the user with --tokenizer, the same file may be anywhere
  const named = await load(vocabOut, join(scratch, 'vocab-elsewhere.txt'));
  assert.equal(named.info.tokenizer, 'vocab-elsewhere.txt');
  await named.release();
  // the Hugging Face cache: models--org--name/snapshots/<rev>/<file> -> ../../blobs/<sha>
  const repo = join(scratch, 'models--org--specimen');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  const snapshot = join(repo, 'snapshots', '0123abcd');
  mkdirSync(snapshot, { recursive: true });
  const source = externalFolder('hf-source');
  for (const [file, sha] of [['model.onnx', 'a1'], ['model.onnx.data', 'b2'], ['vocab.txt', 'c3']]) {
    writeFileSync(join(repo, 'blobs', sha), readFileSync(join(source, file)));
    symlinkSync(join('..', '..', 'blobs', sha), join(snapshot, file));
  }
  const m = await load(snapshot);
  assert.equal((await m.capture({ text: 'the fox' })).layers.length, 3);
  await m.release();
  // a blobs/ that is itself a link leads anywhere: its files are refused
  const evil = join(scratch, 'models--org--evil');
  mkdirSync(join(evil, 'snapshots', 'r'), { recursive: true });
  mkdirSync(join(scratch, 'outside-blobs'));
  writeFileSync(join(scratch, 'outside-blobs', 'c3'), readFileSync(join(source, 'vocab.txt')));
  symlinkSync(join(scratch, 'outside-blobs'), join(evil, 'blobs'));
  copyFileSync(join(SPECIMEN, 'model.onnx'), join(evil, 'snapshots', 'r', 'model.onnx'));
  symlinkSync(join('..', '..', 'blobs', 'c3'), join(evil, 'snapshots', 'r', 'vocab.txt'));
  await assert.rejects(load(join(evil, 'snapshots', 'r')), /the tokenizer .*vocab\.txt leads outside the model's folder/);
});
