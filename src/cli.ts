// attention-lens: the analysis without VS Code. Commands print JSON (a contract other tools read).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EngineClient, EngineError } from './engine/engineClient';
import type { AttentionCapture } from './analysis/attentionCapture';
import type { AttentionAnalysis } from './analysis/attentionAnalysis';
import { analyzedCorpus, corpusTexts } from './engine/corpus';
import { captureSummary, headMatrix } from './analysis/captureViews';
import { REPORT_MATRIX_FLOATS, reportHtml } from './reportHtml';
import type { LabOptions, LabResult } from './analysis/efficientAttentionLab';
import type { ModelInfo } from './model/capture';
import { InputError } from './model/inputError';
import { EXECUTION_PROVIDER_CHOICES, ExecutionProviderChoice } from './model/executionProviders';
import { specimenModel } from './model/builder/specimenModel';
import { DTYPES, Dtype, EstimateError, MODES, Mode, memoryEstimate } from './memory/attentionMemory';
import { configSites, languageOfPath } from './memory/configSites';
import { memoryLensTitle } from './memory/memoryReport';
import { ModelDims, attentionShape, missingDims } from './memory/modelDims';

const USAGE = `usage:
  attention-lens analyze --model <path|demo> (--text T | --text-file F | --ids 1,2,3 | --corpus FILE|DIR)
                         [--target-text T | --target-ids 1,2,3]   (an encoder-decoder's decoder input)
                         [--ep auto|cpu|cuda] [--layers 0,5,11] [--tokenizer FILE] [--truncate]
                         [--word-level] [--max-offset R] [--no-head-distance] [--timeout SECONDS]
                         [--lab [--head L:H] [--budget SCORES] [--seed S] [--window W] [--stride L] [--block L]
                                [--span Z | --coverage C] [--hashes H] [--chunk C] [--clusters K]
                                [--routing-window W] [--global-tokens]]
                         [--segment S [--memory M] [--compress-rate C [--compressed-memory N]]]
                         [--json OUT] [--include-attention] [--html REPORT.html]
  attention-lens memory (--config FILE | --layers L --heads h --hidden H) [--seq n] [--batch b]
                        [--dtype fp32|fp16|bf16|int8] [--mode inference|training] [--kv-heads k]
                        [--head-dim d] [--causal] [--json OUT]
  attention-lens specimen --out DIR      write the specimen model (model.onnx, vocab.txt, config.json, roles.json)`;

/** dist/ holds cli.js and engine.js; the specimen is built into media/specimen beside it. */
const packageRoot = resolve(__dirname, '..');
export const SPECIMEN_FOLDER = join(packageRoot, 'media', 'specimen');

function numberList(s: string, what: string): number[] {
  const values = s.split(',').map((x) => Number(x.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 0)) throw new InputError(`--${what} takes comma-separated non-negative integers, not '${s}'`);
  return values;
}

/** The JSON report of `analyze`: field names are a contract. */
export function analysisReport(info: ModelInfo, capture: AttentionCapture, analysis: AttentionAnalysis, includeAttention: boolean, lab?: LabResult): object {
  return {
    model: modelReport(info, capture.executionProvider),
    tokens: capture.tokens,
    inputIds: capture.inputIds,
    offsets: capture.offsets,
    ...(capture.target ? { target: capture.target } : {}),
    layers: capture.layers.map((l, i) => ({
      index: capture.layerIndices[i],
      name: l.name,
      ...(l.part ? { part: l.part } : {}),
      heads: l.heads,
      queries: l.queries,
      keys: l.keys,
      ...(includeAttention ? { attention: headRows(l.probs, l.heads, l.queries, l.keys) } : {}),
    })),
    ...analysisFields(analysis),
    ...(lab ? labFields(lab) : {}),
    warnings: capture.warnings,
  };
}

function labFields(lab: LabResult): object {
  return {
    methods: lab.heads.flatMap((h) => h.methods.map((m) => ({ layer: h.layer, head: h.head, ...m }))),
    equalBudget: lab.equalBudget,
    ...(lab.buckets ? { buckets: lab.buckets } : {}),
    labNotes: lab.notes,
  };
}

/** The standalone HTML report, with every head's matrix when they fit. */
function writeReport(path: string, modelPath: string, capture: AttentionCapture, analysis: AttentionAnalysis, lab: LabResult | undefined): void {
  const floats = capture.layers.reduce((s, l) => s + l.probs.length, 0);
  const matrices =
    floats <= REPORT_MATRIX_FLOATS
      ? capture.layers.flatMap((l, li) => Array.from({ length: l.heads }, (_, h) => ({ ...headMatrix(capture, li, h)!, layer: li })))
      : undefined;
  const bundle = readFileSync(join(__dirname, 'webview.js'), 'utf8');
  const css = readFileSync(join(packageRoot, 'media', 'attention.css'), 'utf8');
  writeFileSync(path, reportHtml(captureSummary(modelPath, capture, analysis, lab), matrices, bundle, css));
  process.stderr.write(`attention-lens: wrote the report ${path}${matrices ? '' : ` (matrices left out: ${floats} probabilities)`}\n`);
}

function headOption(s: string): { layer: number; head: number } {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) throw new InputError(`--head takes LAYER:HEAD, such as 1:3, not '${s}'`);
  return { layer: Number(m[1]), head: Number(m[2]) };
}

function modelReport(info: ModelInfo, executionProvider: string): object {
  return {
    path: info.path,
    layers: info.layers,
    headsPerLayer: info.headsPerLayer,
    executionProvider,
    inputs: info.inputs,
    layerNames: info.layerNames,
    attention: info.attention,
    precision: info.precision,
    maxPositions: info.maxPositions,
    tokenizer: info.tokenizer,
    ...(info.variants.length ? { variants: info.variants } : {}),
    ...(info.decoder ? { decoder: info.decoder } : {}),
    ...(info.decoderStartId !== undefined ? { decoderStartId: info.decoderStartId } : {}),
  };
}

function analysisFields(a: AttentionAnalysis): object {
  return { causal: a.causal, heads: a.heads, relative: a.relative, ...(a.headDistance ? { headDistance: a.headDistance } : {}) };
}

function headRows(probs: Float32Array, heads: number, queries: number, keys: number): number[][][] {
  return Array.from({ length: heads }, (_, h) =>
    Array.from({ length: queries }, (_, q) => Array.from(probs.subarray((h * queries + q) * keys, (h * queries + q + 1) * keys))),
  );
}

async function analyze(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      text: { type: 'string' },
      'text-file': { type: 'string' },
      ids: { type: 'string' },
      'target-text': { type: 'string' },
      'target-ids': { type: 'string' },
      corpus: { type: 'string' },
      ep: { type: 'string', default: 'auto' },
      layers: { type: 'string' },
      tokenizer: { type: 'string' },
      truncate: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
      json: { type: 'string' },
      'include-attention': { type: 'boolean', default: false },
      'word-level': { type: 'boolean', default: false },
      'max-offset': { type: 'string' },
      'no-head-distance': { type: 'boolean', default: false },
      lab: { type: 'boolean', default: false },
      head: { type: 'string' },
      budget: { type: 'string' },
      seed: { type: 'string' },
      window: { type: 'string' },
      stride: { type: 'string' },
      block: { type: 'string' },
      span: { type: 'string' },
      coverage: { type: 'string' },
      hashes: { type: 'string' },
      chunk: { type: 'string' },
      clusters: { type: 'string' },
      'routing-window': { type: 'string' },
      'global-tokens': { type: 'boolean', default: false },
      html: { type: 'string' },
      segment: { type: 'string' },
      memory: { type: 'string' },
      'compress-rate': { type: 'string' },
      'compressed-memory': { type: 'string' },
    },
  });
  if (!values.model) throw new InputError('--model is required (a .onnx file, a model folder, or demo)');
  const ep = values.ep as ExecutionProviderChoice;
  if (!EXECUTION_PROVIDER_CHOICES.includes(ep)) throw new InputError(`--ep must be one of ${EXECUTION_PROVIDER_CHOICES.join(', ')}, not '${values.ep}'`);
  const sources = [values.text, values['text-file'], values.ids, values.corpus].filter((v) => v !== undefined).length;
  if (sources !== 1) throw new InputError('give exactly one of --text, --text-file, --ids or --corpus');
  let text = values.text;
  if (values['text-file'] !== undefined) {
    try {
      text = readFileSync(values['text-file'], 'utf8');
    } catch (e) {
      throw new InputError(`cannot read --text-file ${values['text-file']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (values['target-text'] !== undefined && values['target-ids'] !== undefined) throw new InputError('give one of --target-text and --target-ids');
  const target = { targetText: values['target-text'], targetIds: values['target-ids'] !== undefined ? numberList(values['target-ids'], 'target-ids') : undefined };
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) throw new InputError(`--timeout takes a positive number of seconds, not '${values.timeout}'`);
  const maxOffset = values['max-offset'] === undefined ? undefined : numberList(values['max-offset'], 'max-offset')[0];
  const analysisOptions = { wordLevel: values['word-level'], maxOffset, headDistance: !values['no-head-distance'] };
  const one = (v: string | undefined, name: string): number | undefined => (v === undefined ? undefined : numberList(v, name)[0]);
  const coverage = values.coverage === undefined ? undefined : Number(values.coverage);
  if (coverage !== undefined && !(coverage > 0 && coverage <= 1)) throw new InputError(`--coverage takes a share in (0, 1], not '${values.coverage}'`);
  const lab: LabOptions | undefined =
    values.lab || values.head !== undefined
      ? {
          head: values.head !== undefined ? headOption(values.head) : undefined,
          budget: one(values.budget, 'budget'),
          seed: one(values.seed, 'seed'),
          window: one(values.window, 'window'),
          stride: one(values.stride, 'stride'),
          block: one(values.block, 'block'),
          span: one(values.span, 'span'),
          coverage,
          hashes: one(values.hashes, 'hashes'),
          chunk: one(values.chunk, 'chunk'),
          clusters: one(values.clusters, 'clusters'),
          routingWindow: one(values['routing-window'], 'routing-window'),
          globalTokens: values['global-tokens'],
        }
      : undefined;
  for (const [name, v] of [['stride', lab?.stride], ['block', lab?.block], ['hashes', lab?.hashes], ['chunk', lab?.chunk], ['clusters', lab?.clusters]] as const) {
    if (v === 0) throw new InputError(`--${name} must be at least 1`);
  }
  if (lab && values.corpus !== undefined) throw new InputError('--lab works on one text: leave out --corpus');
  if (values.html !== undefined && values.corpus !== undefined) throw new InputError('--html reports one text: leave out --corpus');
  const segment = one(values.segment, 'segment');
  const rate = one(values['compress-rate'], 'compress-rate');
  if ((values.memory !== undefined || rate !== undefined) && segment === undefined) throw new InputError('--memory and --compress-rate need --segment');
  const load = { model: values.model === 'demo' ? SPECIMEN_FOLDER : values.model, executionProvider: ep, tokenizer: values.tokenizer };
  const layers = values.layers !== undefined ? numberList(values.layers, 'layers') : undefined;
  const engine = new EngineClient({ enginePath: join(__dirname, 'engine.js'), timeoutMs: timeoutSeconds * 1000 });
  const write = (report: object, summary: string): void => {
    const json = JSON.stringify(report);
    if (values.json) {
      writeFileSync(values.json, json + '\n');
      process.stdout.write(`${summary}; wrote ${values.json}\n`);
    } else process.stdout.write(json + '\n');
  };
  try {
    const info = await engine.load(load);
    if (segment !== undefined) {
      if (values.corpus !== undefined) throw new InputError('--segment works on one text: leave out --corpus');
      const memory = one(values.memory, 'memory') ?? segment;
      const compression = rate !== undefined ? { rate, slots: one(values['compressed-memory'], 'compressed-memory') ?? memory } : undefined;
      const r = await engine.recurrence({ load, run: { text, ids: values.ids !== undefined ? numberList(values.ids, 'ids') : undefined, segment, memory, compression } });
      write(
        { model: modelReport(info, info.executionProvider), tokens: r.tokens, inputIds: r.inputIds, recurrence: r.recurrence, ...(r.compressive ? { compressive: r.compressive } : {}) },
        `${info.path}: ${r.tokens.length} tokens in segments of ${segment}, memory ${memory}`,
      );
      return;
    }
    if (values.corpus !== undefined) {
      const texts = corpusTexts(values.corpus);
      const { analysis: combined, executionProvider: provider } = await analyzedCorpus(
        engine,
        load,
        texts,
        { capture: { layers, truncate: values.truncate, ...target }, analysis: analysisOptions },
        (done, total, tokens) => process.stderr.write(`attention-lens: text ${done}/${total} (${tokens} tokens)\n`),
      );
      write(
        { model: modelReport(info, provider), texts: texts.length, ...analysisFields(combined) },
        `${info.path}: ${texts.length} texts, ${combined.heads.length} heads, execution provider ${provider}`,
      );
      return;
    }
    const { capture, analysis, lab: labResult } = await engine.analyze({
      load,
      capture: { text, ids: values.ids !== undefined ? numberList(values.ids, 'ids') : undefined, layers, truncate: values.truncate, ...target },
      analysis: analysisOptions,
      lab,
      returnAttention: values['include-attention'] || values.html !== undefined,
    });
    if (values.html !== undefined) writeReport(values.html, info.path, capture, analysis, labResult);
    for (const w of capture.warnings) process.stderr.write(`attention-lens: warning: ${w}\n`);
    write(
      analysisReport(info, capture, analysis, values['include-attention'], labResult),
      `${info.path}: ${capture.tokens.length} tokens${capture.target ? ` and ${capture.target.tokens.length} target tokens` : ''}, ${capture.layers.length} attention layers, ${analysis.heads.length} heads, execution provider ${capture.executionProvider}`,
    );
  } finally {
    engine.dispose();
  }
}

function positiveOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isInteger(v) || v <= 0) throw new InputError(`--${name} takes a positive whole number, not '${value}'`);
  return v;
}

function memory(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      hidden: { type: 'string' },
      'kv-heads': { type: 'string' },
      'head-dim': { type: 'string' },
      causal: { type: 'boolean' },
      seq: { type: 'string' },
      batch: { type: 'string', default: '1' },
      dtype: { type: 'string', default: 'fp32' },
      mode: { type: 'string', default: 'inference' },
      json: { type: 'string' },
    },
  });
  const dtype = values.dtype as Dtype;
  if (!DTYPES.includes(dtype)) throw new InputError(`--dtype must be one of ${DTYPES.join(', ')}, not '${values.dtype}'`);
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) throw new InputError(`--mode must be inference or training, not '${values.mode}'`);
  let dims: ModelDims;
  let source: string;
  if (values.config !== undefined) {
    const language = languageOfPath(values.config);
    if (!language) throw new InputError(`--config takes a .json, .yaml/.yml or .py file, not ${values.config}`);
    let text: string;
    try {
      text = readFileSync(values.config, 'utf8');
    } catch (e) {
      throw new InputError(`cannot read --config ${values.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const scan = configSites(text, language);
    if (scan.problems.length && !scan.sites.length) throw new InputError(`${values.config}: ${scan.problems[0]}`);
    const site = scan.sites.find((x) => x.missing.length === 0) ?? scan.sites[0];
    if (!site) throw new InputError(`${values.config} holds no model configuration (no layers, heads and hidden size found)`);
    if (site.missing.length) throw new InputError(`${values.config}: the ${site.label} configuration lacks ${site.missing.join(', ')}`);
    dims = site.dims;
    source = `${values.config} (${site.label})`;
  } else {
    dims = {
      layers: positiveOption(values.layers, 'layers'),
      heads: positiveOption(values.heads, 'heads'),
      hidden: positiveOption(values.hidden, 'hidden'),
      causal: false,
    };
    source = 'command line';
    const lacking = missingDims(dims);
    if (lacking.length) throw new InputError(`give --config FILE, or --layers, --heads and --hidden (missing ${lacking.join(', ')})`);
  }
  dims = {
    ...dims,
    kvHeads: positiveOption(values['kv-heads'], 'kv-heads') ?? dims.kvHeads,
    headDim: positiveOption(values['head-dim'], 'head-dim') ?? dims.headDim,
    causal: values.causal ?? dims.causal,
  };
  const shaped = attentionShape(dims, { seq: positiveOption(values.seq, 'seq'), batch: positiveOption(values.batch, 'batch')!, dtype, mode });
  if ('missing' in shaped) throw new InputError(`cannot estimate: missing ${shaped.missing.join(', ')}${shaped.missing.some((m) => m.includes('sequence')) ? ' (--seq n)' : ''}`);
  let estimate;
  try {
    estimate = memoryEstimate(shaped.shape);
  } catch (e) {
    if (e instanceof EstimateError) throw new InputError(e.message);
    throw e;
  }
  const report = JSON.stringify({ source, ...estimate });
  if (values.json) {
    writeFileSync(values.json, report + '\n');
    process.stdout.write(`${memoryLensTitle(estimate)}; wrote ${values.json}\n`);
  } else {
    process.stdout.write(report + '\n');
  }
}

function writeSpecimen(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } } });
  if (!values.out) throw new InputError('--out DIR is required');
  const s = specimenModel();
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'model.onnx'), s.model);
  writeFileSync(join(values.out, 'vocab.txt'), s.vocab);
  writeFileSync(join(values.out, 'config.json'), s.config);
  writeFileSync(join(values.out, 'roles.json'), s.roles);
}

/** The usage of one command: its lines of USAGE. */
function usageOf(command: string): string {
  const lines = USAGE.split('\n');
  const first = lines.findIndex((l) => l.startsWith(`  attention-lens ${command} `));
  const next = lines.findIndex((l, i) => i > first && l.startsWith('  attention-lens '));
  return ['usage:', ...lines.slice(first, next < 0 ? undefined : next)].join('\n');
}

const COMMANDS = ['analyze', 'memory', 'specimen'];
const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h';

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (isHelp(command) || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (COMMANDS.includes(command) && rest.some(isHelp)) {
    process.stdout.write(usageOf(command) + '\n');
    return 0;
  }
  try {
    if (command === 'analyze') await analyze(rest);
    else if (command === 'memory') memory(rest);
    else if (command === 'specimen') writeSpecimen(rest);
    else throw new InputError(command ? `unknown command '${command}'\n${USAGE}` : USAGE);
    return 0;
  } catch (e) {
    const err = e as Error;
    const input = err instanceof InputError || (err instanceof EngineError && err.kind === 'input') || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`attention-lens: ${err.message}\n`);
    return input ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
