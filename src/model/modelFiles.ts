// Where a model's files are: an .onnx file or a Hugging Face / optimum model folder, with
// its tokenizer and config beside it.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { HfTokenizer } from './hfTokenizer';
import { InputError } from './inputError';
import { TextTokenizer } from './tokenizerTypes';
import { WordPieceTokenizer } from './wordPiece';

export interface ModelFiles {
  modelPath: string;
  /** folder searched for tokenizer and config (the model's, or its parent in optimum's onnx/ layout) */
  folders: string[];
  tokenizerPath?: string;
  configPath?: string;
}

/** The file's first byte (a model may be gigabytes: only one byte is read), or undefined when empty. */
function firstByte(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(1);
    return readSync(fd, b, 0, 1, 0) === 1 ? b[0] : undefined;
  } finally {
    closeSync(fd);
  }
}

export function modelFiles(path: string): ModelFiles {
  const full = resolve(path);
  if (!existsSync(full)) throw new InputError(`no such file or folder: ${path}`);
  let modelPath = full;
  if (statSync(full).isDirectory()) {
    const candidates = [join(full, 'model.onnx'), join(full, 'onnx', 'model.onnx')];
    const found = candidates.find((c) => existsSync(c));
    if (found) modelPath = found;
    else {
      const onnx = readdirSync(full).filter((f) => f.endsWith('.onnx'));
      if (onnx.length === 0) {
        throw new InputError(`the folder ${path} holds no ONNX model (looked for model.onnx, onnx/model.onnx and any *.onnx)`);
      }
      if (onnx.length > 1) throw new InputError(`the folder ${path} holds several ONNX models (${onnx.join(', ')}): name one of them`);
      modelPath = join(full, onnx[0]);
    }
  } else if (!full.endsWith('.onnx') && firstByte(full) === 0x7b) {
    throw new InputError(`${basename(path)} is a JSON file, not an ONNX model: pass the .onnx file or its folder`);
  }
  const dir = dirname(modelPath);
  const folders = basename(dir) === 'onnx' ? [dir, dirname(dir)] : [dir];
  const firstIn = (name: string): string | undefined => folders.map((f) => join(f, name)).find((p) => existsSync(p));
  return {
    modelPath,
    folders,
    tokenizerPath: firstIn('tokenizer.json') ?? firstIn('vocab.txt'),
    configPath: firstIn('config.json'),
  };
}

export function modelConfig(files: ModelFiles): Record<string, unknown> | undefined {
  if (!files.configPath) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(files.configPath, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch (e) {
    throw new InputError(`${files.configPath} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The tokenizer at path: tokenizer.json (with tokenizer_config.json beside it) or a WordPiece vocab.txt. */
export function tokenizerAt(path: string, config?: Record<string, unknown>): TextTokenizer {
  if (!existsSync(path)) throw new InputError(`no tokenizer at ${path}`);
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.json')) {
    const cfgPath = join(dirname(path), 'tokenizer_config.json');
    return new HfTokenizer(text, existsSync(cfgPath) ? readFileSync(cfgPath, 'utf8') : undefined);
  }
  const lowerCase = config?.do_lower_case !== false;
  return new WordPieceTokenizer(text, lowerCase);
}
