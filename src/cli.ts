// attention-lens: the analysis without VS Code. Commands print JSON (a contract other tools read,
// docs/cli-json.md); `analyze` runs models in the engine process, `memory` and `specimen` load
// no ONNX Runtime at all.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { analyzeOptions } from './cli/analyzeOptions';
import { runAnalyze } from './cli/analyzeRun';
import { memoryCommand } from './cli/memoryCommand';
import { parsedOptions } from './cli/optionValues';
import { profileCommand } from './cli/profileCommand';
import { EngineError } from './engine/engineClient';
import { specimenModel } from './model/builder/specimenModel';
import { InputError } from './model/inputError';

const USAGE = `usage:
  attention-lens analyze --model <path|demo> (--text T | --text-file F | --ids 1,2,3 | --corpus FILE|DIR | --input-features F.npy
                                             | --induction-probe [LEN] [--seed S])   (LEN random tokens shown twice, 50 by default)
                         [--target-text T | --target-ids 1,2,3]   (an encoder-decoder's decoder input)
                         [--ep auto|cpu|webgpu|cuda] [--layers 0,5,11] [--tokenizer FILE] [--truncate]
                         [--word-level] [--max-offset R] [--no-head-distance] [--timeout SECONDS]
                         [--lab [--head L:H] [--budget SCORES] [--seed S] [--window W] [--stride L] [--block L]
                                [--span Z | --coverage C] [--ramp R] [--hashes H] [--chunk C] [--clusters K]
                                [--routing-window W] [--global-tokens]]
                         [--segment S [--memory M] [--compress-rate C [--compressed-memory N]]]
                         [--json OUT] [--include-attention] [--html REPORT.html]
  attention-lens memory (--config FILE | --layers L --heads h --hidden H) [--seq n] [--batch b]
                        [--dtype fp32|fp16|bf16|int8] [--mode inference|decode|training] [--fused-kernel]
                        [--kv-heads k] [--head-dim d] [--causal] [--json OUT]
                        (n, batch and dtype: the options, else the file's seq_len/batch_size/precision keys,
                         else the config's positions and torch_dtype)
  attention-lens profile --model <path|demo> [--seq 64,128,...] [--batch 1,4] [--ep auto|cpu|webgpu|cuda]
                         [--budget 8GiB] [--text T] [--seed S] [--no-mem-pattern] [--tapped] [--extrapolate-to N] [--timeout SECONDS]
                         [--json OUT] [--html REPORT.html]
                         (the model's memory and time measured with ONNX Runtime's profiler at each n and batch,
                          default n: powers of two from 16 to the model's positions; budget: the free memory)
  attention-lens specimen --out DIR      write the specimen model (model.onnx, vocab.txt, config.json, roles.json)`;

/** dist/ holds cli.js and engine.js; the specimen is built into media/specimen beside it. */
const packageRoot = resolve(__dirname, '..');
export const SPECIMEN_FOLDER = join(packageRoot, 'media', 'specimen');

function writeSpecimen(argv: string[]): void {
  const values = parsedOptions(argv, { out: { type: 'string' } });
  if (!values.out) throw new InputError('--out DIR is required');
  const s = specimenModel();
  // the folder's parent must exist: a recursive mkdir under /proc or a file retries without end
  const parent = statSync(dirname(resolve(values.out)), { throwIfNoEntry: false });
  if (!parent?.isDirectory()) throw new InputError(`--out ${values.out}: the folder ${dirname(resolve(values.out))} does not exist`);
  const out = statSync(values.out, { throwIfNoEntry: false });
  if (out && !out.isDirectory()) throw new InputError(`--out ${values.out} is not a folder`);
  try {
    if (!out) mkdirSync(values.out);
  } catch (e) {
    throw new InputError(`cannot make the folder ${values.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
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

const COMMANDS = ['analyze', 'memory', 'profile', 'specimen'];
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
    if (command === 'analyze') await runAnalyze(analyzeOptions(rest, SPECIMEN_FOLDER), { enginePath: join(__dirname, 'engine.js'), webviewBundle: join(__dirname, 'webview.js'), reportHost: join(__dirname, 'reportHost.js'), css: join(packageRoot, 'media', 'attention.css') });
    else if (command === 'memory') memoryCommand(rest);
    else if (command === 'profile') await profileCommand(rest, { enginePath: join(__dirname, 'engine.js'), webviewBundle: join(__dirname, 'webview.js'), reportHost: join(__dirname, 'reportHost.js'), css: join(packageRoot, 'media', 'attention.css'), specimenFolder: SPECIMEN_FOLDER });
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
