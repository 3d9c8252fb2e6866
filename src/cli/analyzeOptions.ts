// The options of `attention-lens analyze`, parsed and checked into what to run: one text (and
// the lab), a corpus, or segment recurrence, with what to write.
import type { AnalysisOptions } from '../analysis/attentionAnalysis';
import type { LabOptions } from '../analysis/efficientAttentionLab';
import { PROBE_LENGTH } from '../analysis/inductionProbe';
import type { CaptureOptions, LoadOptions } from '../model/capture';
import { InputError } from '../model/inputError';
import type { RecurrenceOptions } from '../model/segmentRecurrence';
import { readUserText } from '../model/userFiles';
import { headOption, numberList, outputPath, parsedOptions, positiveOption, providerOption, timeoutMsOption } from './optionValues';

export interface AnalyzeOptions {
  load: LoadOptions;
  timeoutMs: number;
  analysis: AnalysisOptions;
  mode: { kind: 'text'; capture: CaptureOptions; lab?: LabOptions } | { kind: 'corpus'; corpus: string; capture: Omit<CaptureOptions, 'text' | 'ids'> } | { kind: 'segments'; run: RecurrenceOptions };
  output: { json?: string; includeAttention: boolean; html?: string };
}

export function analyzeOptions(argv: string[], specimenFolder: string): AnalyzeOptions {
  // --induction-probe's length may be left out: alone, it asks for the default
  const args = argv.map((a, i) => (a === '--induction-probe' && !/^\d/.test(argv[i + 1] ?? '') ? `--induction-probe=${PROBE_LENGTH}` : a));
  const values = parsedOptions(args, {
    model: { type: 'string' },
    text: { type: 'string' },
    'text-file': { type: 'string' },
    ids: { type: 'string' },
    'target-text': { type: 'string' },
    'input-features': { type: 'string' },
    'target-ids': { type: 'string' },
    corpus: { type: 'string' },
    'induction-probe': { type: 'string' },
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
    ramp: { type: 'string' },
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
  });
  if (!values.model) throw new InputError('--model is required (a .onnx file, a model folder, or demo)');
  const ep = providerOption(values.ep);
  const inputs = { text: values.text, 'text-file': values['text-file'], ids: values.ids, corpus: values.corpus, 'input-features': values['input-features'] };
  const given = Object.keys(inputs).filter((k) => inputs[k as keyof typeof inputs] !== undefined);
  const probeLength = positiveOption(values['induction-probe'], 'induction-probe');
  if (probeLength !== undefined) {
    if (given.length) throw new InputError(`--induction-probe is its own input (random tokens shown twice): leave out --${given[0]}`);
    if (probeLength < 2) throw new InputError('--induction-probe takes the length of the repeated sequence, 2 tokens at least');
    if (values.segment !== undefined) throw new InputError('--induction-probe runs one capture: leave out --segment');
  } else if (given.length !== 1) throw new InputError('give exactly one of --text, --text-file, --ids, --corpus, --input-features or --induction-probe');
  let text = values.text;
  if (values['text-file'] !== undefined) text = readUserText(values['text-file'], 'text');
  if (values['target-text'] !== undefined && values['target-ids'] !== undefined) throw new InputError('give one of --target-text and --target-ids');
  const target = { targetText: values['target-text'], targetIds: values['target-ids'] !== undefined ? numberList(values['target-ids'], 'target-ids') : undefined };
  const timeoutMs = timeoutMsOption(values.timeout);
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
          ramp: one(values.ramp, 'ramp'),
          hashes: one(values.hashes, 'hashes'),
          chunk: one(values.chunk, 'chunk'),
          clusters: one(values.clusters, 'clusters'),
          routingWindow: one(values['routing-window'], 'routing-window'),
          globalTokens: values['global-tokens'],
        }
      : undefined;
  for (const [name, v] of [['stride', lab?.stride], ['block', lab?.block], ['hashes', lab?.hashes], ['chunk', lab?.chunk], ['clusters', lab?.clusters], ['ramp', lab?.ramp]] as const) {
    if (v === 0) throw new InputError(`--${name} must be at least 1`);
  }
  if (lab && values.corpus !== undefined) throw new InputError('--lab works on one text: leave out --corpus');
  if (values.html !== undefined && values.corpus !== undefined) throw new InputError('--html reports one text: leave out --corpus');
  const segment = one(values.segment, 'segment');
  const rate = one(values['compress-rate'], 'compress-rate');
  if ((values.memory !== undefined || rate !== undefined) && segment === undefined) throw new InputError('--memory and --compress-rate need --segment');
  const load = { model: values.model === 'demo' ? specimenFolder : values.model, executionProvider: ep, tokenizer: values.tokenizer };
  const layers = values.layers !== undefined ? numberList(values.layers, 'layers') : undefined;
  const ids = values.ids !== undefined ? numberList(values.ids, 'ids') : undefined;
  const output = { json: outputPath(values.json, 'json'), includeAttention: values['include-attention'], html: outputPath(values.html, 'html') };
  const base = { load, timeoutMs, analysis: analysisOptions, output };
  if (segment !== undefined) {
    if (values.corpus !== undefined) throw new InputError('--segment works on one text: leave out --corpus');
    const memory = one(values.memory, 'memory') ?? segment;
    const compression = rate !== undefined ? { rate, slots: one(values['compressed-memory'], 'compressed-memory') ?? memory } : undefined;
    return { ...base, mode: { kind: 'segments', run: { text, ids, segment, memory, compression } } };
  }
  if (values.corpus !== undefined) return { ...base, mode: { kind: 'corpus', corpus: values.corpus, capture: { layers, truncate: values.truncate, ...target } } };
  const inputFeatures = values['input-features'];
  // the probe's tokens are drawn with the lab's seed
  const probe = probeLength !== undefined ? { probe: { length: probeLength, seed: one(values.seed, 'seed') ?? 1 } } : {};
  return { ...base, mode: { kind: 'text', capture: { text, ids, ...(inputFeatures !== undefined ? { inputFeatures } : {}), ...probe, layers, truncate: values.truncate, ...target }, lab } };
}
