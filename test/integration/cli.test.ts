// The CLI and the engine process: the JSON contract, one clear line and exit code 2 for every
// bad input, and a killed engine that is reported and replaced.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzedCorpus } from '../../src/engine/corpus';
import { EngineClient, EngineError } from '../../src/engine/engineClient';
import { GraphBuilder } from '../../src/model/builder/onnxBuilder';
import { TINY_FUSED_SHAPE, fusedAttentionModel } from '../../src/model/builder/fusedAttentionModels';
import { inductionDecoder } from '../../src/model/builder/inductionDecoder';
import { ONNX_FLOAT, ONNX_INT64 } from '../../src/model/onnxGraph';
import { refuses } from '../helpers/cliRefusal';
import { CLI, ENGINE, ORT_TESTDATA, SPECIMEN, TINY_BERT } from '../helpers/paths';

const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-cli-'));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


test('analyze writes the JSON contract, attention included on request', () => {
  const out = join(scratch, 'demo.json');
  const r = cli(['analyze', '--model', 'demo', '--text', 'The fox jumps.', '--json', out, '--include-attention']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(Object.keys(j.model).slice(0, 5), ['path', 'layers', 'headsPerLayer', 'executionProvider', 'inputs']);
  assert.equal(j.model.layers, 3);
  assert.deepEqual(j.model.headsPerLayer, [4, 4, 4]);
  assert.equal(j.model.executionProvider, 'cpu');
  assert.deepEqual(j.tokens, ['[CLS]', 'the', 'fox', 'jumps', '.', '[SEP]']);
  assert.equal(j.inputIds.length, 6);
  assert.deepEqual(j.offsets[2], [4, 7]);
  assert.equal(j.layers[0].name, 'encoder/layer.0/attention/self');
  assert.equal(j.layers[0].attention.length, 4);
  assert.equal(j.layers[0].attention[0][3].length, 6);
  // rollout and flow over the 3 layers, [outputs][inputs] over the 6 tokens
  assert.deepEqual(j.rollout.stacks.map((x: { layers: number[] }) => x.layers), [[0, 1, 2]]);
  for (const method of ['rollout', 'flow']) {
    assert.deepEqual(j.rollout.stacks[0][method].map((row: number[]) => row.length), [6, 6, 6, 6, 6, 6]);
    assert.ok(Math.abs(j.rollout.stacks[0][method][2].reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
  }
  assert.ok(j.rollout.notes.some((n: string) => /0\.5 A \+ 0\.5 I/.test(n)), j.rollout.notes.join(' | '));
  assert.match(r.stdout, /6 tokens, 3 attention layers, 12 heads, execution provider cpu/);
});

test('analyze on tiny-bert with chosen layers, JSON on stdout without attention', () => {
  const r = cli(['analyze', '--model', TINY_BERT, '--text', 'hello world', '--layers', '1', '--ep', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.layers.map((l: { index: number }) => l.index), [1]);
  assert.equal(j.layers[0].attention, undefined);
});

test('fused attention: the fused exports of ONNX Runtime\'s optimizer analyse, and the report says which op computed each layer', () => {
  for (const [file, op] of [
    ['attention_opt.onnx', 'com.microsoft.Attention'],
    ['bert_3d_attention_opt.onnx', 'com.microsoft.Attention'],
    ['attention_mha.onnx', 'com.microsoft.MultiHeadAttention'],
  ]) {
    const r = cli(['analyze', '--model', join(ORT_TESTDATA, file), '--ids', '1,2,3']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.model.attention[0].op, op);
    assert.equal(report.model.precision, 'float32');
  }
});

test('the lab says when an attention op rotated queries and keys after they were tapped (GroupQueryAttention do_rotary)', () => {
  const path = join(scratch, 'gqa-rotary.onnx');
  writeFileSync(path, fusedAttentionModel({ ...TINY_FUSED_SHAPE, causal: true, kvHeads: 2, headDim: 16, rotary: true }, 'GroupQueryAttention').model);
  const r = cli(['analyze', '--model', path, '--ids', '1,2,3,4,5,6', '--lab']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.model.attention[0].unrotatedVectors, true);
  assert.ok(report.labNotes.some((n: string) => /layers 0, 1 rotate queries and keys inside their attention op \(do_rotary\): LSH and routing used them before the rotation/.test(n)), report.labNotes.join(' | '));
});

test('bad files: each with its own message', () => {
  const empty = join(scratch, 'empty.onnx');
  writeFileSync(empty, '');
  const random = join(scratch, 'random.onnx');
  writeFileSync(random, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24)));
  const whole = readFileSync(join(TINY_BERT, 'model.onnx'));
  const truncated = join(scratch, 'truncated.onnx');
  writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
  const noModel = join(scratch, 'no-model');
  mkdirSync(noModel, { recursive: true });
  writeFileSync(join(noModel, 'config.json'), '{}');
  refuses(['analyze', '--model', join(scratch, 'missing'), '--text', 'x'], /no such file or folder: .*missing/);
  refuses(['analyze', '--model', noModel, '--text', 'x'], /holds no ONNX model \(looked for model.onnx, onnx\/model.onnx, decoder_model_merged.onnx, genai_config.json and any \*.onnx\)/);
  refuses(['analyze', '--model', empty, '--text', 'x'], /empty.onnx is empty \(0 bytes\): not an ONNX model/);
  refuses(['analyze', '--model', random, '--text', 'x'], /random.onnx is not (a readable ONNX model|an ONNX model)/);
  refuses(['analyze', '--model', truncated, '--text', 'x'], /truncated.onnx is not a readable ONNX model \(damaged or truncated/);
});

test('a model with no attention at all', () => {
  const g = new GraphBuilder('classifier');
  const ids = g.input('input_ids', ONNX_INT64, ['batch', 'sequence']);
  const emb = g.node('Gather', [g.floats('emb', [10, 4], new Float32Array(40).fill(0.1)), ids]);
  g.node('Softmax', [g.node('MatMul', [emb, g.floats('w', [4, 3], new Float32Array(12).fill(0.2))])], { axis: -1 }, 'probs');
  g.output('probs_output', ONNX_FLOAT, ['batch', 'sequence', 3]);
  const path = join(scratch, 'no-attention.onnx');
  writeFileSync(path, g.encode().model);
  refuses(['analyze', '--model', path, '--ids', '1,2'], /no-attention.onnx has no attention to capture: no Softmax .* MatMul of queries and keys/);
});

test('bad texts and tokenizers: empty, too long, no tokenizer, a tokenizer of another model', () => {
  refuses(['analyze', '--model', 'demo', '--text', '   '], /the text is empty/);
  const long = Array(200).fill('word').join(' ');
  refuses(['analyze', '--model', 'demo', '--text', long], /the text is 202 tokens long but the model takes at most 128 positions \(config.json\): shorten it, or pass --truncate/);
  const cut = cli(['analyze', '--model', 'demo', '--text', long, '--truncate']);
  assert.equal(cut.code, 0, cut.stderr);
  assert.equal(JSON.parse(cut.stdout).tokens.length, 128);
  assert.equal(JSON.parse(cut.stdout).tokens[127], '[SEP]');
  assert.match(cut.stderr, /warning: the text was cut to the model's 128 positions/);
  refuses(['analyze', '--model', join(ORT_TESTDATA, 'gpt2_one_layer.onnx'), '--text', 'hello'], /no tokenizer beside it .* pass token ids with --ids/);
  const bigVocab = join(scratch, 'vocab.txt');
  writeFileSync(bigVocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...Array.from({ length: 40000 }, (_, i) => `w${i}`)].join('\n'));
  refuses(['analyze', '--model', TINY_BERT, '--text', 'hello', '--tokenizer', bigVocab], /tokenizer \(vocab.txt, 40004 entries\) does not match the model: its embedding has 30522 rows/);
  refuses(['analyze', '--model', TINY_BERT, '--ids', '5,40000'], /token id 40000 is outside the model's vocabulary \(0-30521\)/);
  refuses(['analyze', '--model', 'demo', '--text', 'x', '--ep', 'tpu'], /--ep must be one of auto, cpu, webgpu, cuda/);
});

test('the engine killed during a run is reported (to the request and to who follows its health), and the next run starts a fresh engine', async () => {
  const health: string[] = [];
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000, onHealth: (h, detail) => health.push(`${h}: ${detail}`) });
  const load = { model: TINY_BERT, executionProvider: 'cpu' as const };
  try {
    const run = engine.capture(load, { text: 'the quick brown fox' });
    const pid = engine.pid!;
    process.kill(pid, 'SIGKILL');
    await assert.rejects(run, (e: Error) => e instanceof EngineError && e.kind === 'crashed' && /killed by SIGKILL/.test(e.message));
    const again = await engine.capture(load, { text: 'the quick brown fox' });
    assert.equal(again.tokens.length, 6);
    assert.notEqual(engine.pid, pid);
    assert.deepEqual(health.map((h) => h.split(':')[0]), ['running', 'crashed', 'running']);
    assert.match(health[1], /killed by SIGKILL/);
  } finally {
    engine.dispose();
  }
});

test('cancel and the time limit stop the engine for real', async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 1 });
  const load = { model: SPECIMEN, executionProvider: 'cpu' as const };
  try {
    await assert.rejects(engine.load(load), (e: Error) => e instanceof EngineError && e.kind === 'timeout' && /time limit/.test(e.message));
  } finally {
    engine.dispose();
  }
  const patient = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000 });
  try {
    const run = patient.load(load);
    const pid = patient.pid!;
    patient.cancel();
    await assert.rejects(run, (e: Error) => e instanceof EngineError && e.kind === 'cancelled');
    await new Promise((r) => setTimeout(r, 200));
    assert.throws(() => process.kill(pid, 0), 'the cancelled engine process is gone');
    assert.equal((await patient.load(load)).layers, 3);
  } finally {
    patient.dispose();
  }
});

test('a corpus run cancelled between two texts stops there and starts no fresh engine', async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000 });
  const load = { model: SPECIMEN, executionProvider: 'cpu' as const };
  const cancelled = new AbortController();
  const done: number[] = [];
  try {
    const run = analyzedCorpus(engine, load, ['one text.', 'two texts.', 'three texts.', 'four texts.'], { capture: {}, analysis: {} }, (k) => {
      done.push(k);
      // What a Cancel click between two requests does: the engine is killed while none is pending.
      if (k === 2) {
        cancelled.abort();
        engine.cancel();
      }
    }, cancelled.signal);
    await assert.rejects(run, (e: Error) => e instanceof EngineError && e.kind === 'cancelled');
    assert.deepEqual(done, [1, 2]);
    assert.equal(engine.pid, undefined, 'no engine was started for the third text');
  } finally {
    engine.dispose();
  }
});

test('head distances left out for their cost come from the engine on request, as the analysis would have given them', async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000 });
  const load = { model: SPECIMEN, executionProvider: 'cpu' as const };
  const capture = { text: 'The quick brown fox, the lazy dog. It jumps.' };
  try {
    const skipped = await engine.analyze({ load, capture, analysis: { headDistanceSeconds: 0 }, returnAttention: false, keep: { budgetBytes: 2 ** 30 } });
    assert.equal(skipped.analysis.headDistance, undefined);
    assert.ok(skipped.analysis.headDistanceSkipped!.work > 0);
    const full = await engine.analyze({ load, capture, analysis: {}, returnAttention: false });
    assert.deepEqual(await engine.headMap({ capture: skipped.captureId! }), full.analysis.headDistance);
  } finally {
    engine.dispose();
  }
});

test('the engine writes no ONNX Runtime device id or usage database under the home folder', () => {
  const home = mkdtempSync(join(tmpdir(), 'home-'));
  const r = cli(['analyze', '--model', 'demo', '--text', 'hello'], { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(join(home, '.cache', 'Microsoft')), false);
});

test('the engine says where an analysis spent its time: the capture and the statistics, within the request', async () => {
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000 });
  try {
    const load = { model: SPECIMEN, executionProvider: 'cpu' as const };
    await engine.load(load);
    const t0 = performance.now();
    const { timings, analysis } = await engine.analyze({ load, capture: { text: 'The quick brown fox jumps over the lazy dog.' }, analysis: {}, returnAttention: false });
    const totalMs = performance.now() - t0;
    assert.equal(analysis.heads.length, 12);
    assert.ok(timings.captureMs > 0 && timings.statisticsMs > 0, JSON.stringify(timings));
    assert.ok(timings.captureMs + timings.statisticsMs <= totalMs, `${JSON.stringify(timings)} within ${totalMs} ms`);
  } finally {
    engine.dispose();
  }
});

// Transparent huge pages as the kernel offers them ('[never]' turns them off; other systems have none).
const THP_MODE = existsSync('/sys/kernel/mm/transparent_hugepage/enabled') ? /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] : undefined;

test("the engine holds a model in huge pages where the kernel offers them, unless the user's own allocator tunables say no", { skip: !THP_MODE || THP_MODE === 'never' ? 'no transparent huge pages here' : false }, async () => {
  const hugeBytes = async (tunables?: string): Promise<number | null> => {
    const saved = process.env.GLIBC_TUNABLES;
    if (tunables) process.env.GLIBC_TUNABLES = tunables;
    const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000 });
    try {
      await engine.load({ model: TINY_BERT, executionProvider: 'cpu' });
      return (await engine.processMemory()).hugePageBytes;
    } finally {
      engine.dispose();
      if (saved === undefined) delete process.env.GLIBC_TUNABLES;
      else process.env.GLIBC_TUNABLES = saved;
    }
  };
  // tiny-bert's 17 MiB of weights and ONNX Runtime's arena: tens of MiB in 2 MiB pages
  assert.ok(((await hugeBytes()) ?? 0) >= 8 * 2 ** 20);
  assert.equal(await hugeBytes('glibc.malloc.hugetlb=0'), 0);
});

test('sessions are cached per model file and modification time: a replaced model is loaded again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replaced-'));
  for (const f of ['model.onnx', 'vocab.txt', 'config.json']) writeFileSync(join(dir, f), readFileSync(join(SPECIMEN, f)));
  const engine = new EngineClient({ enginePath: ENGINE, timeoutMs: 60_000 });
  try {
    const load = { model: dir, executionProvider: 'cpu' as const };
    assert.equal((await engine.load(load)).layers, 3);
    const pid = engine.pid;
    for (const f of ['model.onnx', 'vocab.txt', 'config.json']) writeFileSync(join(dir, f), readFileSync(join(TINY_BERT, f)));
    assert.equal((await engine.load(load)).layers, 2);
    assert.equal(engine.pid, pid, 'the same engine process served both');
  } finally {
    engine.dispose();
  }
});

test('memory: the JSON contract from a config, and from sizes on the command line', () => {
  const out = join(scratch, 'memory.json');
  const r = cli(['memory', '--config', join(__dirname, '..', 'fixtures', 'configs', 'bert-base-uncased.json'), '--json', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /inference at n=512, fp32: no KV cache \(encoder\), attention scores 12 MiB\/layer \(fused kernel: none\)/);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(j.dense.keysFloatsPerLayer, 393216);
  assert.equal(j.dense.attentionFloatsPerLayer, 3145728);
  assert.equal(j.dense.attentionBytesAllLayers, 150994944);
  assert.equal(j.dense.activationBytesPerLayer, 27.75 * 1024 * 1024);
  assert.equal(typeof j.dense.kvCacheBytes, 'number');
  assert.equal(typeof j.dense.flopsPerLayer, 'number');
  for (const m of ['strided', 'fixed', 'local', 'adaptiveSpan', 'lsh', 'routing', 'transformerXL', 'compressive']) {
    assert.deepEqual(Object.keys(j.methods[m]).filter((k) => ['attentionFloatsPerLayer', 'bytesAllLayers', 'flopsPerLayer', 'longestDependency'].includes(k)).length, 4, m);
  }
  const flags = cli(['memory', '--layers', '12', '--heads', '12', '--hidden', '768', '--seq', '2048', '--dtype', 'fp16', '--mode', 'training']);
  assert.equal(flags.code, 0, flags.stderr);
  const f = JSON.parse(flags.stdout);
  assert.equal(f.dense.attentionBytesAllLayers, 12 * 12 * 2048 * 2048 * 2);
  assert.equal(f.shape.mode, 'training');
  // the rules of the inline estimates: Mistral's window and torch_dtype; a YAML's own training keys
  const configs = join(__dirname, '..', 'fixtures', 'configs');
  const mistral = cli(['memory', '--config', join(configs, 'Mistral-7B-v0.1.json'), '--seq', '32768']);
  assert.equal(mistral.code, 0, mistral.stderr);
  const m = JSON.parse(mistral.stdout);
  assert.deepEqual([m.shape.dtype, m.dense.kvCacheBytes, m.dense.parts[0].windowedLayers], ['bf16', 512 * 2 ** 20, 32]);
  const yaml = JSON.parse(cli(['memory', '--config', join(configs, 'finetune.yaml'), '--mode', 'decode']).stdout);
  assert.deepEqual([yaml.shape.seq, yaml.shape.batch, yaml.shape.dtype, yaml.notes.seqKey], [4096, 4, 'bf16', 'training.seq_len']);
  const whisper = JSON.parse(cli(['memory', '--config', join(configs, 'whisper-tiny.json'), '--fused-kernel']).stdout);
  assert.deepEqual(whisper.dense.parts.map((p: { part: string }) => p.part), ['encoderSelf', 'decoderSelf', 'cross']);
  assert.equal(whisper.dense.transientScoresBytes, 0);
});

test('memory: bad configs and sizes exit 2 with what is wrong', () => {
  const bad = join(scratch, 'bad.json');
  writeFileSync(bad, '{"hidden_size": 768,, }');
  refuses(['memory', '--config', bad], /bad.json: JSON error at line 1, column \d+/);
  const partial = join(scratch, 'partial.yaml');
  writeFileSync(partial, 'model:\n  hidden_size: 768\n  num_attention_heads: 12\n');
  refuses(['memory', '--config', partial, '--seq', '512'], /partial.yaml: the model configuration lacks the number of layers/);
  refuses(['memory', '--config', join(scratch, 'nothing.toml')], /--config takes a .json, .yaml\/.yml or .py file/);
  refuses(['memory', '--layers', '12', '--heads', '12', '--hidden', '768'], /missing a sequence length .*\(--seq n\)/);
  refuses(['memory', '--layers', '12', '--heads=-1', '--hidden', '768', '--seq', '8'], /--heads takes a positive whole number, not '-1'/);
  refuses(['memory', '--layers', '12', '--heads', '7', '--hidden', '768', '--seq', '8'], /hidden size 768 is not a multiple of 7 heads/);
  refuses(['memory', '--layers', '2', '--heads', '4', '--hidden', '64', '--seq', '8', '--dtype', 'fp8'], /--dtype must be one of fp32, fp16, bf16, int8/);
  const huge = cli(['memory', '--layers', '12', '--heads', '12', '--hidden', '768', '--seq', '1000000000']);
  assert.equal(huge.code, 0, huge.stderr);
});

test('analyze --lab: methods per head, the equal-budget comparison and the buckets of --head', () => {
  const r = cli(['analyze', '--model', TINY_BERT, '--text', 'the quick brown fox jumps over the lazy dog.', '--lab', '--head', '1:2']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.methods.length, 8 * 7);
  assert.deepEqual(Object.keys(j.methods[0]), ['layer', 'head', 'method', 'params', 'recall', 'scoresComputed', 'bytes']);
  assert.ok(j.equalBudget.budget > 0 && j.equalBudget.methods.lsh.meanRecall > 0);
  assert.equal(j.buckets.layer, 1);
  assert.equal(j.buckets.lsh[0].length, 12);
  assert.deepEqual(Object.keys(j.budgetCurves), ['budgets', 'heads', 'methods']);
  assert.ok(j.equalBudget.ranking.every((m: string) => j.equalBudget.methods[m].maxScoresComputed <= j.equalBudget.budget));
  assert.ok(j.labNotes.some((x: string) => /ramp R is 3 \(n \/ 4\)/.test(x)), 'the ramp scaled to a 12-token text');
  const ramp = cli(['analyze', '--model', 'demo', '--text', 'the quick brown fox', '--lab', '--ramp', '2']);
  assert.equal(ramp.code, 0, ramp.stderr);
  assert.ok(JSON.parse(ramp.stdout).methods.filter((m: { method: string }) => m.method === 'adaptiveSpan').every((m: { params: { ramp: number } }) => m.params.ramp === 2));
  refuses(['analyze', '--model', 'demo', '--text', 'x', '--lab', '--ramp', '0'], /--ramp must be at least 1/);
  refuses(['analyze', '--model', 'demo', '--text', 'x', '--head', 'two'], /--head takes LAYER:HEAD, such as 1:3, not 'two'/);
});

test('analyze --segment: recurrence and compressive memory in the JSON', () => {
  const r = cli(['analyze', '--model', join(ORT_TESTDATA, 'gpt2_past.onnx'), '--ids', '1,2,3,4,5,6,7,8,9,1,2,3', '--segment', '4', '--memory', '2', '--compress-rate', '2', '--compressed-memory', '1']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.recurrence.segment, j.recurrence.memory, j.recurrence.heads.length], [4, 2, 24]);
  assert.deepEqual(Object.keys(j.recurrence.heads[0]), ['layer', 'head', 'memoryShare', 'effectiveContext']);
  assert.equal(j.compressive.rate, 2);
  assert.ok(j.compressive.klNats >= 0);
  assert.equal(j.compressive.bytesSaved, 1 * 1 * 12 * 2 * 2 * 2 * 4);
  refuses(['analyze', '--model', 'demo', '--text', 'a b', '--memory', '2'], /--memory and --compress-rate need --segment/);
});

test('--help and -h print the usage and exit 0, for the CLI and for each command; memory and specimen never load ONNX Runtime', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = cli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage:\n {2}attention-lens analyze[\s\S]*attention-lens memory[\s\S]*attention-lens specimen/);
  }
  for (const command of ['analyze', 'memory', 'specimen']) {
    const r = cli([command, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^usage:\\n {2}attention-lens ${command} `));
    assert.equal(r.stdout.includes('attention-lens ' + (command === 'analyze' ? 'memory' : 'analyze')), false, 'only its own usage');
  }
  const out = join(scratch, 'specimen-no-ort');
  const probe = `const { main } = require(${JSON.stringify(join(CLI, '..', '..', 'dist', 'cli.js'))});
    (async () => {
      await main(['memory', '--layers', '12', '--heads', '12', '--hidden', '768', '--seq', '512']);
      await main(['specimen', '--out', ${JSON.stringify(out)}]);
      process.stderr.write(String(Object.keys(require.cache).some((k) => k.includes('onnxruntime'))));
    })();`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  assert.equal(r.stderr, 'false', 'onnxruntime-node is not loaded');
  assert.ok(existsSync(join(out, 'model.onnx')));
});

test('options and graphs checked before any work: empty list items, a timeout beyond a day, a head that does not exist, a softmax not over the keys', () => {
  refuses(['analyze', '--model', 'demo', '--ids', '1,,2'], /--ids takes comma-separated non-negative integers, not '1,,2'/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--layers', '0,'], /--layers takes comma-separated non-negative integers/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--timeout', '0.5'], /--timeout takes seconds from 1 to 86400/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--timeout', String(2 ** 31)], /--timeout takes seconds from 1 to 86400/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--lab', '--head', '9:9'], /there is no head 9:9: the model has 3 attention layers \(0-2\) of 4 heads at most/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--lab', '--head', '1:7'], /there is no head 1:7: the model has 3 attention layers \(0-2\) and layer 1 has 4 heads \(0-3\)/);
  // scores normalised over the queries' axis: not attention
  const g = new GraphBuilder('softmax over axis 0');
  const x = g.input('hidden', ONNX_FLOAT, [1, 4, 8]);
  g.node('Softmax', [g.node('MatMul', [x, g.node('Transpose', [x], { perm: [0, 2, 1] })])], { axis: 0 }, 'scores');
  g.output('scores_output', ONNX_FLOAT, [1, 4, 4]);
  const path = join(scratch, 'axis0.onnx');
  writeFileSync(path, g.encode().model);
  refuses(['analyze', '--model', path, '--ids', '1'], /axis0\.onnx has no attention to capture: its softmax 'scores' is over axis 0 of its scores, not the keys' \(the last\)/);
});

test('--induction-probe runs random tokens shown twice instead of a text: the report says so, and the planted head scores 1', () => {
  // a folder of its own: the scratch folder holds another model's vocab.txt
  const path = join(mkdtempSync(join(scratch, 'induction-')), 'model.onnx');
  writeFileSync(path, inductionDecoder().model);
  const r = cli(['analyze', '--model', path, '--induction-probe', '--no-head-distance']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.probe, { length: 50, seed: 1, bosId: null });
  assert.equal(j.tokens.length, 100);
  assert.ok(j.heads[0].induction > 0.999 && j.heads[0].labels.includes('induction'), JSON.stringify(j.heads[0]));
  assert.ok(j.heads.slice(1).every((h: { induction: number }) => h.induction < 0.02));
  const sized = cli(['analyze', '--model', 'demo', '--induction-probe', '20', '--seed', '3', '--json', join(scratch, 'probe.json')]);
  assert.equal(sized.code, 0, sized.stderr);
  assert.match(sized.stdout, /41 tokens \(the induction probe: 20 random tokens shown twice, seed 3\)/);
  const s = JSON.parse(readFileSync(join(scratch, 'probe.json'), 'utf8'));
  assert.deepEqual([s.probe.length, s.probe.seed, s.tokens[0]], [20, 3, '[CLS]']);
  // a text without a repeated token has no score: null in the JSON
  const plain = JSON.parse(cli(['analyze', '--model', 'demo', '--text', 'a fox']).stdout);
  assert.equal(plain.heads[0].induction, null);
  assert.equal(plain.heads[0].toPrevOccurrence, null);
});

test('--induction-probe is its own input: with a text, ids, a corpus or segments, or shorter than 2, it is refused in one line', () => {
  refuses(['analyze', '--model', 'demo', '--induction-probe', '--text', 'a fox'], /--induction-probe is its own input \(random tokens shown twice\): leave out --text/);
  refuses(['analyze', '--model', 'demo', '--ids', '1,2', '--induction-probe', '30'], /--induction-probe is its own input \(random tokens shown twice\): leave out --ids/);
  refuses(['analyze', '--model', 'demo', '--induction-probe', '--corpus', scratch], /leave out --corpus/);
  refuses(['analyze', '--model', 'demo', '--induction-probe', '--segment', '4'], /--induction-probe runs one capture: leave out --segment/);
  refuses(['analyze', '--model', 'demo', '--induction-probe', '1'], /--induction-probe takes the length of the repeated sequence, 2 tokens at least/);
  refuses(['analyze', '--model', 'demo', '--induction-probe', '0'], /--induction-probe takes a positive whole number, not '0'/);
  refuses(['analyze', '--model', 'demo'], /give exactly one of --text, --text-file, --ids, --corpus, --input-features or --induction-probe/);
});
