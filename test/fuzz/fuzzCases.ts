// The fuzz suite's cases: malformed or hostile models, folders, tokenizers, texts, options and
// configs, each laid out in a folder of its own and run as one command line. Case i of a seed
// is always the same case (its category is i modulo the categories, its choices drawn from a
// generator seeded by the seed and i), so any slice of the suite can be run again alone.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededUniform } from '../../src/analysis/seededRandom';
import { EncodedModel, GraphBuilder } from '../../src/model/builder/onnxBuilder';
import { specimenGraph } from '../../src/model/builder/specimenModel';
import { ONNX_BOOL, ONNX_FLOAT, ONNX_FLOAT16, ONNX_INT32, ONNX_INT64 } from '../../src/model/onnxGraph';
import { SPECIMEN } from '../helpers/paths';

export interface FuzzCase {
  index: number;
  category: string;
  /** what the case feeds the tool, for the report of a bad outcome */
  what: string;
  args: string[];
  /** the paths the command may write (files, or folders and what is under them) */
  outputs: string[];
  /** files outside the model's folder that the command must never open */
  forbidden: string[];
}

/** What the cases are made from, read once. */
export interface FuzzBase {
  model: Uint8Array;
  vocab: string;
  config: string;
  external: EncodedModel;
}

export function fuzzBase(): FuzzBase {
  return {
    model: readFileSync(join(SPECIMEN, 'model.onnx')),
    vocab: readFileSync(join(SPECIMEN, 'vocab.txt'), 'utf8'),
    config: readFileSync(join(SPECIMEN, 'config.json'), 'utf8'),
    external: specimenGraph().encode({ externalLocation: 'model.onnx.data', externalMinBytes: 1024 }),
  };
}

type Rng = () => number;
const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)];
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const fifo = (path: string): string => (execFileSync('mkfifo', [path]), path);
const nested = (depth: number, open: string, close: string, inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth);

/** One attention head, softmax(X X^T) over embedded ids, with the flaws asked for. */
interface TinyOptions {
  idsType?: number;
  /** input_ids' declared dims; null declares no shape */
  idsDims?: (number | string)[] | null;
  mask?: boolean;
  cycle?: 'identity' | 'self' | 'scores' | 'branch';
  /** the softmax's element type */
  probsType?: number;
  externalEntries?: Record<string, string>;
}

function tinyModel(o: TinyOptions): EncodedModel {
  const g = new GraphBuilder('tiny');
  const dims = o.idsDims === null ? undefined : (o.idsDims ?? ['batch', 'sequence']);
  const ids = g.input('input_ids', o.idsType ?? ONNX_INT64, dims);
  const x = g.node('Gather', [g.floats('embedding', [16, 16], new Float32Array(256).map((_, i) => Math.sin(i) / 4)), ids]);
  let scores = g.node('MatMul', [x, g.node('Transpose', [x], { perm: [0, 2, 1] })]);
  if (o.mask) {
    const mask = g.node('Cast', [g.input('attention_mask', ONNX_INT64, dims)], { to: ONNX_FLOAT });
    scores = g.node('Add', [scores, g.node('Unsqueeze', [mask, g.ints('axis1', [1], [1])])]);
  }
  if (o.cycle === 'identity' || o.cycle === 'scores') scores = g.node('Add', [scores, 'looped'], {}, 'looped_in');
  if (o.probsType && o.probsType !== ONNX_FLOAT) scores = g.node('Cast', [scores], { to: o.probsType });
  const probs = g.node('Softmax', [scores], { axis: -1 }, 'probs');
  if (o.cycle === 'identity') g.nodeOutputs('Identity', [g.node('Identity', [probs], {}, 'alias')], {}, 'alias_again', ['looped']);
  if (o.cycle === 'scores') g.nodeOutputs('Mul', [scores, scores], {}, 'square', ['looped']);
  if (o.cycle === 'self') g.nodeOutputs('Relu', ['spin'], {}, 'spin', ['spin']);
  if (o.cycle === 'branch') {
    const branch = (name: string, looped: boolean): Uint8Array => {
      const b = new GraphBuilder(name, `${name}/`);
      if (looped) b.nodeOutputs('Relu', [`${name}/b`], {}, `${name}/A`, [`${name}/a`]);
      b.nodeOutputs(looped ? 'Relu' : 'Identity', [looped ? `${name}/a` : probs], {}, `${name}/B`, [`${name}/b`]);
      b.output(`${name}/b`, ONNX_FLOAT, []);
      return b.subgraph();
    };
    g.node('If', [g.raw('flag', [], ONNX_BOOL, Uint8Array.of(1))], { then_branch: { graph: branch('then', true) }, else_branch: { graph: branch('else', false) } }, 'branches');
  }
  g.output('probs_output', o.probsType ?? ONNX_FLOAT, ['batch', 'sequence', 'sequence']);
  return g.encode(o.externalEntries ? { externalLocation: 'weights.data', externalMinBytes: 1024, externalEntries: o.externalEntries } : {});
}

/** The specimen's files in `dir` (its weights external when asked), for a case to spoil one of them. */
function specimenFolder(base: FuzzBase, dir: string, external = false): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), external ? base.external.model : base.model);
  if (external) writeFileSync(join(dir, 'model.onnx.data'), base.external.externalData!);
  writeFileSync(join(dir, 'vocab.txt'), base.vocab);
  writeFileSync(join(dir, 'config.json'), base.config);
  return dir;
}

const TEXT = ['--text', 'the quick brown fox.'];

// A file of the model's folder, or one the command names, put in the place of a hostile one.
const SPOILED = ['model', 'vocab', 'config', 'tokenizerJson', 'tokenizerConfig', 'weights', 'textFile', 'corpus', 'tokenizerOption', 'memoryConfig', 'genai', 'features'] as const;
type Spoiled = (typeof SPOILED)[number];

/** The command line that reads `path` as the file `which`, after the folder around it is laid out. */
function spoiled(base: FuzzBase, dir: string, which: Spoiled, spoil: (path: string) => void): string[] {
  const model = join(dir, 'model');
  const put = (path: string): void => (rmSync(path, { force: true }), spoil(path));
  switch (which) {
    case 'model':
      mkdirSync(model);
      put(join(model, 'model.onnx'));
      return ['analyze', '--model', join(model, 'model.onnx'), ...TEXT];
    case 'vocab':
    case 'config':
    case 'tokenizerJson':
    case 'tokenizerConfig': {
      specimenFolder(base, model);
      const file = { vocab: 'vocab.txt', config: 'config.json', tokenizerJson: 'tokenizer.json', tokenizerConfig: 'tokenizer_config.json' }[which];
      put(join(model, file));
      return ['analyze', '--model', model, ...TEXT];
    }
    case 'weights':
      specimenFolder(base, model, true);
      put(join(model, 'model.onnx.data'));
      return ['analyze', '--model', model, ...TEXT];
    case 'genai':
      specimenFolder(base, model);
      put(join(model, 'genai_config.json'));
      return ['analyze', '--model', model, ...TEXT];
    case 'textFile':
      put(join(dir, 'text.txt'));
      return ['analyze', '--model', 'demo', '--text-file', join(dir, 'text.txt')];
    case 'corpus':
      mkdirSync(join(dir, 'corpus'));
      writeFileSync(join(dir, 'corpus', 'a.txt'), 'one text.\n');
      put(join(dir, 'corpus', 'b.txt'));
      return ['analyze', '--model', 'demo', '--corpus', join(dir, 'corpus')];
    case 'tokenizerOption':
      put(join(dir, 'vocab.txt'));
      return ['analyze', '--model', 'demo', '--tokenizer', join(dir, 'vocab.txt'), ...TEXT];
    case 'memoryConfig':
      put(join(dir, 'config.json'));
      return ['memory', '--config', join(dir, 'config.json')];
    case 'features':
      put(join(dir, 'features.npy'));
      return ['analyze', '--model', 'demo', '--input-features', join(dir, 'features.npy')];
  }
}

type Made = { what: string; args: string[]; outputs?: string[]; forbidden?: string[] };
type Category = (r: Rng, dir: string, base: FuzzBase) => Made;

const DEVICES = ['/dev/zero', '/dev/urandom', '/dev/null', '/dev/full', '/dev/stdin', '/proc/self/mem', '/proc/kcore'];

// Values that options get wrong: negative, empty, huge, not numbers, empty list items.
const BAD_VALUES = ['-1', '-0', '0', '1e10', '1e308', 'NaN', 'Infinity', '', ' ', ',', '1,,2', '0,', '0x10', '2147483648', '9007199254740993', '1.5', ' 3 ', 'abc', '9:9', ':', '-3:1', '%s%s', '--', '2', '1'];
const NUMBER_OPTIONS = ['layers', 'ids', 'timeout', 'head', 'budget', 'seed', 'window', 'stride', 'block', 'span', 'coverage', 'ramp', 'hashes', 'chunk', 'clusters', 'routing-window', 'segment', 'memory', 'compress-rate', 'compressed-memory', 'max-offset', 'ep', 'induction-probe', 'target-ids', 'target-text'];
const MEMORY_OPTIONS = ['layers', 'heads', 'hidden', 'seq', 'batch', 'kv-heads', 'head-dim', 'dtype', 'mode'];

const CATEGORIES: Record<string, Category> = {
  fifo: (r, dir, base) => {
    const which = pick(r, SPOILED);
    return { what: `a FIFO as the ${which}`, args: spoiled(base, dir, which, fifo) };
  },
  device: (r, dir, base) => {
    const which = pick(r, SPOILED);
    const device = pick(r, DEVICES);
    return { what: `a link to ${device} as the ${which}`, args: spoiled(base, dir, which, (p) => symlinkSync(device, p)) };
  },
  folderOrLink: (r, dir, base) => {
    const which = pick(r, SPOILED);
    const how = pick(r, ['folder', 'dangling', 'loop', 'empty', 'sparse'] as const);
    const put = (p: string): void => {
      if (how === 'folder') mkdirSync(p);
      else if (how === 'dangling') symlinkSync(join(dir, 'nothing-here'), p);
      else if (how === 'loop') symlinkSync(p, p);
      else if (how === 'empty') writeFileSync(p, '');
      // a file larger than any limit, whose bytes are never written
      else (writeFileSync(p, ''), truncateSync(p, 2 ** 31));
    };
    return { what: `${how} as the ${which}`, args: spoiled(base, dir, which, put) };
  },
  symlinkOut: (r, dir, base) => {
    const model = specimenFolder(base, join(dir, 'model'), true);
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const which = pick(r, ['weights', 'vocab', 'config', 'subfolder', 'hf', 'hfEvil'] as const);
    if (which === 'weights' || which === 'vocab' || which === 'config') {
      const file = { weights: 'model.onnx.data', vocab: 'vocab.txt', config: 'config.json' }[which];
      writeFileSync(join(outside, file), readFileSync(join(model, file)));
      rmSync(join(model, file));
      symlinkSync(pick(r, [join(outside, file), join('..', 'outside', file)]), join(model, file));
      return { what: `the ${which} a link out of the model's folder`, args: ['analyze', '--model', model, ...TEXT], forbidden: [join(outside, file)] };
    }
    if (which === 'subfolder') {
      // weights through a linked sub-folder: location sub/model.onnx.data
      const m = specimenGraph().encode({ externalLocation: 'sub/model.onnx.data', externalMinBytes: 1024 });
      writeFileSync(join(model, 'model.onnx'), m.model);
      writeFileSync(join(outside, 'model.onnx.data'), m.externalData!);
      symlinkSync(outside, join(model, 'sub'));
      return { what: 'weights through a sub-folder linked out of the model folder', args: ['analyze', '--model', model, ...TEXT], forbidden: [join(outside, 'model.onnx.data')] };
    }
    // the Hugging Face cache: snapshots/<rev>/<file> -> ../../blobs/<sha>; a blobs/ that is itself a link leads anywhere
    const repo = join(dir, 'models--org--name');
    const snapshot = join(repo, 'snapshots', 'rev');
    mkdirSync(snapshot, { recursive: true });
    if (which === 'hfEvil') symlinkSync(outside, join(repo, 'blobs'));
    else mkdirSync(join(repo, 'blobs'));
    for (const file of ['model.onnx', 'model.onnx.data', 'vocab.txt']) {
      writeFileSync(join(repo, 'blobs', `sha-${file}`), readFileSync(join(model, file)));
      symlinkSync(join('..', '..', 'blobs', `sha-${file}`), join(snapshot, file));
    }
    // the model itself is the one the user named; what it reads beside it must not leave the repository
    const forbidden = which === 'hfEvil' ? ['model.onnx.data', 'vocab.txt'].map((f) => join(outside, `sha-${f}`)) : [];
    return { what: which === 'hf' ? 'a Hugging Face cache snapshot' : 'a Hugging Face cache whose blobs/ is a link', args: ['analyze', '--model', snapshot, ...TEXT], forbidden };
  },
  protobuf: (r, dir, base) => {
    const bytes = Uint8Array.from(base.model);
    const how = pick(r, ['truncated', 'flipped', 'garbage', 'varints', 'length'] as const);
    let out: Uint8Array = bytes;
    if (how === 'truncated') out = bytes.subarray(0, int(r, 1, bytes.length - 1));
    else if (how === 'flipped') for (let k = int(r, 1, 16); k > 0; k--) out[int(r, 0, bytes.length - 1)] = int(r, 0, 255);
    else if (how === 'garbage') out = Uint8Array.from({ length: int(r, 1, 4096) }, () => int(r, 0, 255));
    // a varint that never ends, and a length far beyond the file
    else if (how === 'varints') out = Uint8Array.from([0x08, ...Array(int(r, 11, 64)).fill(0xff)]);
    else out = Uint8Array.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x00]);
    mkdirSync(join(dir, 'model'));
    writeFileSync(join(dir, 'model', 'model.onnx'), out);
    writeFileSync(join(dir, 'model', 'vocab.txt'), base.vocab);
    return { what: `a ${how} protobuf (${out.length} bytes)`, args: ['analyze', '--model', join(dir, 'model', 'model.onnx'), ...TEXT] };
  },
  graph: (r, dir) => {
    const o: TinyOptions = pick(r, [
      { cycle: 'identity' },
      { cycle: 'self' },
      { cycle: 'scores' },
      { cycle: 'branch' },
      { idsType: pick(r, [ONNX_FLOAT, ONNX_BOOL, ONNX_INT32, 8, 2, 13]) },
      { probsType: pick(r, [ONNX_FLOAT16, 11, ONNX_INT32]) },
      { idsDims: pick(r, [null, [], ['sequence'], [1, -int(r, 2, 100)], [1, 0], [0, 'sequence'], [1, 2 ** 40], [1, 2 ** 31], [2 ** 20, 2 ** 20], [1, 'sequence', 4], ['batch', 'sequence']]) },
      { idsDims: [1, pick(r, [2, 8, 1024, 2 ** 20])], mask: r() < 0.7 },
    ]);
    const path = join(dir, 'model.onnx');
    writeFileSync(path, tinyModel(o).model);
    const input = pick(r, [['--ids', '1,2,3,4'], ['--ids', '15'], ['--ids', Array.from({ length: 40 }, (_, i) => i % 16).join(',')], ['--induction-probe', '4']]);
    return { what: `a graph with ${JSON.stringify(o)}`, args: ['analyze', '--model', path, ...input] };
  },
  externalData: (r, dir) => {
    const entries = pick<Record<string, string>>(r, [
      { offset: '-128' },
      { offset: 'abc' },
      { offset: '1e30' },
      { offset: '4096' },
      { offset: '1.5' },
      { length: '-4' },
      { length: '99999999999' },
      { length: 'NaN' },
      { location: '/etc/passwd' },
      { location: '../outside.data' },
      { location: 'missing.data' },
      { location: '' },
      { location: 'sub/../weights.data' },
      { location: '/dev/zero' },
      {},
    ]);
    const m = tinyModel({ externalEntries: entries });
    const model = join(dir, 'model');
    mkdirSync(model);
    writeFileSync(join(model, 'model.onnx'), m.model);
    const data = m.externalData!;
    writeFileSync(join(model, 'weights.data'), r() < 0.3 ? data.subarray(0, int(r, 0, data.length - 1)) : data);
    writeFileSync(join(dir, 'outside.data'), data);
    return { what: `external data with ${JSON.stringify(entries)}`, args: ['analyze', '--model', model, '--ids', '1,2,3'], forbidden: [join(dir, 'outside.data'), '/etc/passwd'] };
  },
  tokenizer: (r, dir, base) => {
    const model = join(dir, 'model');
    mkdirSync(model);
    writeFileSync(join(model, 'model.onnx'), base.model);
    writeFileSync(join(model, 'config.json'), base.config);
    const vocab = Object.fromEntries(base.vocab.split('\n').filter(Boolean).map((t, i) => [t, i]));
    const json = (v: unknown): string => JSON.stringify({ model: { type: 'WordPiece', unk_token: '[UNK]', vocab: v }, normalizer: null, pre_tokenizer: { type: 'BertPreTokenizer' } });
    const how = pick(r, ['emptyVocab', 'blankVocab', 'oneEntry', 'longLines', 'jsonEmpty', 'jsonEmptyVocab', 'negativeIds', 'hugeIds', 'fractionIds', 'invalidJson', 'deepJson', 'unknownModel', 'deepConfig', 'specialsWeird', 'bpeGarbage'] as const);
    const file = (name: string, text: string): void => writeFileSync(join(model, name), text);
    if (how === 'emptyVocab') file('vocab.txt', '');
    else if (how === 'blankVocab') file('vocab.txt', '\n\n  \n');
    else if (how === 'oneEntry') file('vocab.txt', '[UNK]');
    else if (how === 'longLines') file('vocab.txt', Array.from({ length: 20 }, (_, i) => 'x'.repeat(i * 5000)).join('\n'));
    else if (how === 'jsonEmpty') file('tokenizer.json', '{}');
    else if (how === 'jsonEmptyVocab') file('tokenizer.json', json({}));
    else if (how === 'negativeIds') file('tokenizer.json', json({ ...vocab, the: -int(r, 1, 10 ** 6) }));
    else if (how === 'hugeIds') file('tokenizer.json', json({ ...vocab, the: pick(r, [2 ** 53, 1e300, 2 ** 31, 10 ** 6]) }));
    else if (how === 'fractionIds') file('tokenizer.json', json({ ...vocab, the: 1.5 }));
    else if (how === 'invalidJson') file('tokenizer.json', '{"model": {"vocab": {"a": 1,,}}');
    else if (how === 'deepJson') file('tokenizer.json', nested(10_000, '{"a":', '}'));
    else if (how === 'unknownModel') file('tokenizer.json', JSON.stringify({ model: { type: pick(r, ['Nonsense', 'BPE', 'Unigram', 'WordLevel']), vocab: pick(r, [{}, [], null, 'x']) } }));
    else if (how === 'deepConfig') (file('vocab.txt', base.vocab), file(pick(r, ['tokenizer_config.json', 'special_tokens_map.json', 'config.json']), nested(10_000, '[', ']')));
    else if (how === 'specialsWeird') (file('vocab.txt', base.vocab), file('special_tokens_map.json', JSON.stringify({ cls_token: { content: 7 }, sep_token: null, additional_special_tokens: [[], {}, '', 'x'.repeat(10_000)] })));
    else file('tokenizer.json', JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [7, null, 'a', ['a']] } }));
    if (!['deepConfig', 'specialsWeird', 'emptyVocab', 'blankVocab', 'oneEntry', 'longLines'].includes(how) && r() < 0.3) file('vocab.txt', base.vocab);
    return { what: `a tokenizer: ${how}`, args: ['analyze', '--model', model, '--text', pick(r, ['the fox', 'x', 'the the the'])] };
  },
  text: (r, dir) => {
    const how = pick(r, ['empty', 'blank', 'long', 'veryLong', 'controls', 'surrogates', 'mixed', 'nulFile', 'binaryFile', 'emptyFile', 'bomFile', 'corpusEmpty', 'corpusFolderEmpty', 'corpusBlankLines', 'truncate'] as const);
    const file = (text: string | Uint8Array): string => (writeFileSync(join(dir, 'text.txt'), text), join(dir, 'text.txt'));
    const text = (t: string): string[] => ['analyze', '--model', 'demo', '--text', t];
    const args =
      how === 'empty' ? text('')
      : how === 'blank' ? text(' \t\n ')
      : how === 'long' ? text(Array(int(r, 120, 400)).fill('word').join(' '))
      : how === 'veryLong' ? text('a'.repeat(int(r, 10_000, 100_000)))
      : how === 'controls' ? text(Array.from({ length: 50 }, () => String.fromCharCode(int(r, 1, 31))).join(''))
      : how === 'surrogates' ? text('\ud800 fox \udfff \u202e\u200b')
      : how === 'mixed' ? text('日本語 Ελληνικά 🦊 العربية ' + '\u0301'.repeat(100))
      : how === 'nulFile' ? ['analyze', '--model', 'demo', '--text-file', file('\0'.repeat(int(r, 1, 100)))]
      : how === 'binaryFile' ? ['analyze', '--model', 'demo', '--text-file', file(Uint8Array.from({ length: 2000 }, () => int(r, 0, 255)))]
      : how === 'emptyFile' ? ['analyze', '--model', 'demo', '--text-file', file('')]
      : how === 'bomFile' ? ['analyze', '--model', 'demo', '--text-file', file('\ufeffthe fox\r\n')]
      : how === 'corpusEmpty' ? ['analyze', '--model', 'demo', '--corpus', file('')]
      : how === 'corpusFolderEmpty' ? (mkdirSync(join(dir, 'texts')), ['analyze', '--model', 'demo', '--corpus', join(dir, 'texts')])
      : how === 'corpusBlankLines' ? ['analyze', '--model', 'demo', '--corpus', file('\n\n   \n\t\n')]
      : [...text(Array(300).fill('fox').join(' ')), '--truncate'];
    return { what: `a text: ${how}`, args };
  },
  options: (r, dir) => {
    const outputs = [join(dir, 'out.json'), join(dir, 'out.html')];
    const args = ['analyze', '--model', 'demo', ...(r() < 0.8 ? TEXT : [])];
    for (let k = int(r, 1, 3); k > 0; k--) {
      const option = pick(r, [...NUMBER_OPTIONS, 'unknown-option', 'lab', 'truncate', 'json', 'html']);
      if (option === 'lab' || option === 'truncate') args.push(`--${option}`);
      else if (option === 'json' || option === 'html') args.push(`--${option}`, pick(r, [join(dir, `out.${option}`), dir, join(dir, 'no', 'such', 'out'), '/proc/attention-lens/out', '/dev/full', '', '/']));
      else if (r() < 0.15) args.push(`--${option}`);
      else args.push(r() < 0.5 ? `--${option}` : `--${option}=`, pick(r, BAD_VALUES));
    }
    // `--opt=` joined to its value only when both were pushed as one
    const joined = args.flatMap((a, i) => (a.endsWith('=') ? [] : i > 0 && args[i - 1].endsWith('=') ? [args[i - 1] + a] : [a]));
    return { what: `options ${JSON.stringify(joined.slice(3))}`, args: joined, outputs };
  },
  memoryOptions: (r, dir) => {
    const args = ['memory'];
    for (const option of MEMORY_OPTIONS) if (r() < 0.6) args.push(`--${option}`, pick(r, [...BAD_VALUES, '12', '768', '64', 'fp16', 'training']));
    if (r() < 0.3) args.push('--json', pick(r, [join(dir, 'out.json'), dir, '/proc/x/y', join(dir, 'none', 'x.json')]));
    return { what: `memory options ${JSON.stringify(args.slice(1))}`, args, outputs: [join(dir, 'out.json')] };
  },
  configs: (r, dir) => {
    const how = pick(r, ['deepJson', 'deepYaml', 'aliases', 'hugeNumbers', 'negative', 'strings', 'deepPython', 'bigPower', 'garbage', 'emptyYaml', 'pythonCalls', 'jsonComments', 'arrays', 'zeroHeads'] as const);
    const files: Record<typeof how, [string, string]> = {
      deepJson: ['c.json', nested(10_000, '{"a":', '}')],
      deepYaml: ['c.yaml', nested(10_000, '[', ']')],
      aliases: ['c.yaml', 'a: &a [x, x, x, x, x, x, x, x, x]\n' + Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n') + '\n'],
      hugeNumbers: ['c.json', JSON.stringify({ hidden_size: 1e308, num_attention_heads: 1e300, num_hidden_layers: 1e308, max_position_embeddings: 1e308 })],
      negative: ['c.json', JSON.stringify({ hidden_size: -768, num_attention_heads: -12, num_hidden_layers: -1, max_position_embeddings: -5 })],
      strings: ['c.json', JSON.stringify({ hidden_size: '768', num_attention_heads: [12], num_hidden_layers: { n: 1 }, max_position_embeddings: null })],
      deepPython: ['c.py', `x = ${nested(10_000, '(', ')')}\nconfig = BertConfig(hidden_size=768)\n`],
      bigPower: ['c.py', 'H = 2 ** 10 ** 10\nconfig = BertConfig(hidden_size=H, num_attention_heads=12, num_hidden_layers=12, max_position_embeddings=512)\n'],
      garbage: [pick(r, ['c.json', 'c.yaml', 'c.py']), String.fromCharCode(...Array.from({ length: 3000 }, () => int(r, 0, 0xffff)))],
      emptyYaml: ['c.yaml', ''],
      pythonCalls: ['c.py', Array.from({ length: 2000 }, (_, i) => `m${i} = nn.MultiheadAttention(embed_dim=${i}, num_heads=${i % 7})`).join('\n')],
      jsonComments: ['c.json', '// a\n{ /* b */ "hidden_size": 768, "num_attention_heads": 12, "num_hidden_layers": 12, "max_position_embeddings": 512, }'],
      arrays: ['c.json', JSON.stringify([{ hidden_size: 768 }, 1, null])],
      zeroHeads: ['c.json', JSON.stringify({ hidden_size: 768, num_attention_heads: 0, num_hidden_layers: 12, max_position_embeddings: 512 })],
    };
    const [name, text] = files[how];
    writeFileSync(join(dir, name), text);
    const seq = r() < 0.5 ? ['--seq', pick(r, ['512', '1', '1000000000', '0'])] : [];
    return { what: `a config: ${how}`, args: ['memory', '--config', join(dir, name), ...seq] };
  },
  folders: (r, dir, base) => {
    const model = join(dir, 'model');
    mkdirSync(model);
    const how = pick(r, ['empty', 'onlyConfig', 'several', 'onnxLayout', 'genaiOut', 'genaiMissing', 'genaiDeep', 'decoderAlone', 'modelIsFolder', 'jsonAsModel', 'specimenOut'] as const);
    const put = (name: string, data: string | Uint8Array): void => {
      mkdirSync(join(model, name, '..'), { recursive: true });
      writeFileSync(join(model, name), data);
    };
    if (how === 'onlyConfig') put('config.json', base.config);
    else if (how === 'several') (put('a.onnx', base.model), put('b.onnx', base.model));
    else if (how === 'onnxLayout') (put('onnx/model.onnx', base.model), put('vocab.txt', base.vocab), put('onnx/model_quantized.onnx', 'not a model'));
    else if (how === 'genaiOut') (put('genai_config.json', JSON.stringify({ model: { decoder: { filename: pick(r, ['../../etc/passwd', '/etc/passwd', '.', '', 7]) } } })), put('model.onnx', base.model));
    else if (how === 'genaiMissing') put('genai_config.json', JSON.stringify({ model: { decoder: { filename: 'nope.onnx' } } }));
    else if (how === 'genaiDeep') (put('genai_config.json', nested(10_000, '{"model":', '}')), put('model.onnx', base.model));
    else if (how === 'decoderAlone') put('decoder_model_merged.onnx', base.model);
    else if (how === 'modelIsFolder') mkdirSync(join(model, 'model.onnx'));
    else if (how === 'jsonAsModel') put('model', '{"not": "a model"}');
    if (how === 'specimenOut') {
      const out = pick(r, [join(dir, 'spec'), join(dir, 'spec', 'deeper', 'still'), '/proc/attention-lens', '/dev/null', dir, join(dir, 'file')]);
      writeFileSync(join(dir, 'file'), 'x');
      return { what: `specimen --out ${out}`, args: ['specimen', '--out', out], outputs: [out] };
    }
    const target = how === 'jsonAsModel' ? join(model, 'model') : model;
    return { what: `a model folder: ${how}`, args: ['analyze', '--model', target, ...TEXT], forbidden: ['/etc/passwd'] };
  },
};

export const FUZZ_CATEGORIES = Object.keys(CATEGORIES);

/** Case `index` of `seed`, laid out in `dir` (an empty folder). */
export function fuzzCase(seed: number, index: number, dir: string, base: FuzzBase): FuzzCase {
  const category = FUZZ_CATEGORIES[index % FUZZ_CATEGORIES.length];
  const r = seededUniform((seed * 1_000_003 + index) >>> 0);
  const made = CATEGORIES[category](r, dir, base);
  return { index, category, what: made.what, args: made.args, outputs: made.outputs ?? [], forbidden: made.forbidden ?? [] };
}
