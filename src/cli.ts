// attention-lens: the analysis without VS Code. Commands print JSON (a contract other tools read).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EngineClient, EngineError } from './engine/engineClient';
import type { AttentionCapture } from './analysis/attentionCapture';
import type { ModelInfo } from './model/capture';
import { InputError } from './model/inputError';
import { EXECUTION_PROVIDER_CHOICES, ExecutionProviderChoice } from './model/ortSession';
import { specimenModel } from './model/builder/specimenModel';

const USAGE = `usage:
  attention-lens analyze --model <path|demo> (--text T | --text-file F | --ids 1,2,3) [--ep auto|cpu|cuda]
                         [--layers 0,5,11] [--tokenizer FILE] [--truncate] [--timeout SECONDS]
                         [--json OUT] [--include-attention]
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
export function analysisReport(info: ModelInfo, capture: AttentionCapture, includeAttention: boolean): object {
  return {
    model: {
      path: info.path,
      layers: info.layers,
      headsPerLayer: info.headsPerLayer,
      executionProvider: capture.executionProvider,
      inputs: info.inputs,
      layerNames: info.layerNames,
      maxPositions: info.maxPositions,
      tokenizer: info.tokenizer,
    },
    tokens: capture.tokens,
    inputIds: capture.inputIds,
    offsets: capture.offsets,
    layers: capture.layers.map((l, i) => ({
      index: capture.layerIndices[i],
      name: l.name,
      heads: l.heads,
      ...(includeAttention ? { attention: headRows(l.probs, l.heads, l.queries, l.keys) } : {}),
    })),
    warnings: capture.warnings,
  };
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
      ep: { type: 'string', default: 'auto' },
      layers: { type: 'string' },
      tokenizer: { type: 'string' },
      truncate: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
      json: { type: 'string' },
      'include-attention': { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new InputError('--model is required (a .onnx file, a model folder, or demo)');
  const ep = values.ep as ExecutionProviderChoice;
  if (!EXECUTION_PROVIDER_CHOICES.includes(ep)) throw new InputError(`--ep must be one of ${EXECUTION_PROVIDER_CHOICES.join(', ')}, not '${values.ep}'`);
  const sources = [values.text, values['text-file'], values.ids].filter((v) => v !== undefined).length;
  if (sources !== 1) throw new InputError('give exactly one of --text, --text-file or --ids');
  let text = values.text;
  if (values['text-file'] !== undefined) {
    try {
      text = readFileSync(values['text-file'], 'utf8');
    } catch (e) {
      throw new InputError(`cannot read --text-file ${values['text-file']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) throw new InputError(`--timeout takes a positive number of seconds, not '${values.timeout}'`);
  const load = { model: values.model === 'demo' ? SPECIMEN_FOLDER : values.model, executionProvider: ep, tokenizer: values.tokenizer };
  const engine = new EngineClient({ enginePath: join(__dirname, 'engine.js'), timeoutMs: timeoutSeconds * 1000 });
  try {
    const info = await engine.load(load);
    const capture = await engine.capture(load, {
      text,
      ids: values.ids !== undefined ? numberList(values.ids, 'ids') : undefined,
      layers: values.layers !== undefined ? numberList(values.layers, 'layers') : undefined,
      truncate: values.truncate,
    });
    const report = JSON.stringify(analysisReport(info, capture, values['include-attention']));
    for (const w of capture.warnings) process.stderr.write(`attention-lens: warning: ${w}\n`);
    if (values.json) {
      writeFileSync(values.json, report + '\n');
      const heads = capture.layers.reduce((s, l) => s + l.heads, 0);
      process.stdout.write(
        `${info.path}: ${capture.tokens.length} tokens, ${capture.layers.length} attention layers, ${heads} heads, ` +
          `execution provider ${capture.executionProvider}; wrote ${values.json}\n`,
      );
    } else {
      process.stdout.write(report + '\n');
    }
  } finally {
    engine.dispose();
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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'analyze') await analyze(rest);
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
