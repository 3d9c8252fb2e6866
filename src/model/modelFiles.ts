// Where a model's files are: an .onnx file or a Hugging Face / optimum model folder, with
// its tokenizer and config beside it.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { HfTokenizer } from './hfTokenizer';
import { InputError } from './inputError';
import { TextTokenizer, specialTokenName } from './tokenizerTypes';
import { checkedUserFile, readUserText } from './userFiles';
import { WordPieceTokenizer } from './wordPiece';

export interface ModelFiles {
  modelPath: string;
  /** folder searched for tokenizer and config (the model's, or its parent in optimum's onnx/ layout) */
  folders: string[];
  /** the model's folder: what the files it reads must lie in (its parent in the onnx/ layout) */
  root: string;
  tokenizerPath?: string;
  configPath?: string;
  /** onnxruntime-genai's genai_config.json, when the folder is in that layout */
  genaiConfigPath?: string;
  /** the other ONNX files of the folder that were not chosen (quantised, fp16, other parts) */
  variants: string[];
  /** what the layout tells the user about the chosen file */
  notes: string[];
  /** an encoder-decoder's decoder, when modelPath is its encoder */
  decoderPath?: string;
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

// Exports name their files after the part of the model they hold, with a suffix for the
// precision: optimum and transformers.js write onnx/model.onnx beside onnx/model_fp16.onnx,
// onnx/model_quantized.onnx and others; decoders come merged (one graph, with and without a
// cache) or as two graphs.
const PART_PREFERENCE = ['model', 'decoder_model_merged', 'decoder_model', 'decoder_with_past_model'];
const PRECISION_SUFFIXES = ['', '_fp32', '_fp16', '_bf16', '_quantized', '_int8', '_uint8', '_q8', '_q4', '_q4f16', '_bnb4'];

function partAndPrecision(file: string): { part: string; rank: number } {
  const stem = file.replace(/\.onnx$/, '');
  let best = { part: stem, rank: PRECISION_SUFFIXES.length };
  PRECISION_SUFFIXES.forEach((suffix, rank) => {
    if (suffix && stem.endsWith(suffix) && stem.length > suffix.length && rank < best.rank) best = { part: stem.slice(0, -suffix.length), rank };
  });
  return best.rank === PRECISION_SUFFIXES.length ? { part: stem, rank: 0 } : best;
}

/** The ONNX file a folder's layout points to, and the other ONNX files it holds. */
function chosenModel(folder: string, shown: string): { modelPath: string; variants: string[]; genaiConfigPath?: string; notes: string[]; decoderPath?: string } {
  const genai = join(folder, 'genai_config.json');
  if (existsSync(genai)) {
    let file: unknown;
    try {
      file = (JSON.parse(readUserText(genai, 'config', folder)) as { model?: { decoder?: { filename?: unknown } } }).model?.decoder?.filename;
    } catch (e) {
      throw new InputError(`${shown}/genai_config.json is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof file !== 'string' || !existsSync(join(folder, file))) {
      throw new InputError(`${shown}/genai_config.json names no decoder file that exists (model.decoder.filename: ${JSON.stringify(file ?? null)})`);
    }
    const modelPath = join(folder, file);
    return { modelPath, variants: onnxFilesIn(folder).filter((p) => p !== modelPath), genaiConfigPath: genai, notes: [] };
  }
  const all = onnxFilesIn(folder);
  if (all.length === 0) {
    throw new InputError(`the folder ${shown} holds no ONNX model (looked for model.onnx, onnx/model.onnx, decoder_model_merged.onnx, genai_config.json and any *.onnx)`);
  }
  const described = all.map((path) => ({ path, ...partAndPrecision(basename(path)) }));
  const parts = [...new Set(described.map((d) => d.part))];
  // An encoder-decoder: its encoder, and the decoder that runs on the whole target at once
  // (merged, or without a cache), each at the best precision there is.
  const best = (part: string): string | undefined => described.filter((d) => d.part === part).sort((a, b) => a.rank - b.rank || a.path.length - b.path.length)[0]?.path;
  const decoder = ['decoder_model_merged', 'decoder_model'].map(best).find(Boolean);
  if (parts.includes('encoder_model') && decoder) {
    const modelPath = best('encoder_model')!;
    return { modelPath, decoderPath: decoder, variants: all.filter((p) => p !== modelPath && p !== decoder), notes: [] };
  }
  const part = PART_PREFERENCE.find((p) => parts.includes(p)) ?? (parts.length === 1 ? parts[0] : undefined);
  if (!part) {
    const names = all.map((p) => relative(folder, p)).join(', ');
    throw new InputError(`the folder ${shown} holds several ONNX models (${names}): name one of them`);
  }
  // the full-precision file before the others, then the shorter path (the model's own folder before onnx/)
  const pick = best(part)!;
  const notes =
    part === 'encoder_model' ? [`${relative(folder, pick)} is the encoder of an encoder-decoder model whose decoder (decoder_model.onnx or decoder_model_merged.onnx) is not in the folder: only the encoder's self-attention is shown`] : [];
  return { modelPath: pick, variants: all.filter((p) => p !== pick), notes };
}

function onnxFilesIn(folder: string): string[] {
  const inside = (dir: string): string[] =>
    existsSync(dir) && statSync(dir).isDirectory()
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.onnx'))
          .sort()
          .map((f) => join(dir, f))
      : [];
  return [...inside(folder), ...inside(join(folder, 'onnx'))];
}

export function modelFiles(path: string): ModelFiles {
  const full = resolve(path);
  if (!existsSync(full)) throw new InputError(`no such file or folder: ${path}`);
  let modelPath = full;
  let variants: string[] = [];
  let genaiConfigPath: string | undefined;
  let notes: string[] = [];
  let decoderPath: string | undefined;
  if (statSync(full).isDirectory()) {
    ({ modelPath, variants, genaiConfigPath, notes, decoderPath } = chosenModel(full, path));
  } else {
    // a FIFO or a device named as the model is refused before anything opens it
    checkedUserFile(full, 'model');
    if (!full.endsWith('.onnx') && firstByte(full) === 0x7b) throw new InputError(`${basename(path)} is a JSON file, not an ONNX model: pass the .onnx file or its folder`);
    // an encoder-decoder's file named by itself runs with its other half beside it, of its precision
    const named = partAndPrecision(basename(full));
    const siblings = onnxFilesIn(dirname(full)).map((path) => ({ path, ...partAndPrecision(basename(path)) }));
    const beside = (part: string): string | undefined => siblings.find((f) => f.part === part && f.rank === named.rank)?.path;
    if (/^decoder_model(_merged)?$/.test(named.part)) {
      const encoder = beside('encoder_model');
      if (encoder) [modelPath, decoderPath] = [encoder, full];
    } else if (named.part === 'encoder_model') {
      decoderPath = beside('decoder_model_merged') ?? beside('decoder_model');
    }
  }
  const dir = dirname(modelPath);
  const folders = basename(dir) === 'onnx' ? [dir, dirname(dir)] : [dir];
  const firstIn = (name: string): string | undefined => folders.map((f) => join(f, name)).find((p) => existsSync(p));
  genaiConfigPath ??= firstIn('genai_config.json');
  return {
    modelPath,
    folders,
    root: folders[folders.length - 1],
    tokenizerPath: firstIn('tokenizer.json') ?? firstIn('vocab.txt'),
    configPath: firstIn('config.json'),
    genaiConfigPath,
    variants,
    notes,
    ...(decoderPath ? { decoderPath } : {}),
  };
}

function jsonObject(path: string, root: string | undefined): Record<string, unknown> {
  const text = readUserText(path, 'config', root);
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch (e) {
    throw new InputError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * The model's configuration: config.json, with onnxruntime-genai's genai_config.json read as a
 * config where there is one (its decoder's heads, head size and context length under their
 * Hugging Face names; config.json's own keys win).
 */
export function modelConfig(files: ModelFiles): Record<string, unknown> | undefined {
  const config = files.configPath ? jsonObject(files.configPath, files.root) : undefined;
  if (!files.genaiConfigPath) return config;
  const genai = (jsonObject(files.genaiConfigPath, files.root).model ?? {}) as Record<string, unknown>;
  const decoder = (genai.decoder ?? {}) as Record<string, unknown>;
  const fromGenai: Record<string, unknown> = {
    model_type: genai.type,
    vocab_size: genai.vocab_size,
    max_position_embeddings: genai.context_length,
    bos_token_id: genai.bos_token_id,
    eos_token_id: genai.eos_token_id,
    pad_token_id: genai.pad_token_id,
    num_attention_heads: decoder.num_attention_heads,
    num_key_value_heads: decoder.num_key_value_heads,
    head_dim: decoder.head_size,
    hidden_size: decoder.hidden_size,
    num_hidden_layers: decoder.num_hidden_layers,
  };
  for (const k of Object.keys(fromGenai)) if (fromGenai[k] === undefined) delete fromGenai[k];
  return { ...fromGenai, ...config };
}

/**
 * The tokenizer at path: tokenizer.json (with tokenizer_config.json beside it) or a WordPiece
 * vocab.txt. One found beside a model must lie in the model's folder `root`; one named apart may be anywhere.
 */
export function tokenizerAt(path: string, config?: Record<string, unknown>, root?: string): TextTokenizer {
  const text = readUserText(path, 'tokenizer', root);
  if (path.endsWith('.json')) {
    const cfgPath = join(dirname(path), 'tokenizer_config.json');
    return new HfTokenizer(text, existsSync(cfgPath) ? readUserText(cfgPath, 'config', root) : undefined);
  }
  // tokenizer_config.json and special_tokens_map.json beside the vocabulary say how it was used
  const beside = (name: string): Record<string, unknown> => (existsSync(join(dirname(path), name)) ? jsonObject(join(dirname(path), name), root) : {});
  const tokenizerConfig = beside('tokenizer_config.json');
  const map = beside('special_tokens_map.json');
  const lowerCase = (tokenizerConfig.do_lower_case ?? config?.do_lower_case) !== false;
  const named = (v: unknown): string[] => {
    const name = specialTokenName(v);
    return name === undefined ? [] : [name];
  };
  const configured = Object.entries(tokenizerConfig).filter(([k]) => k.endsWith('_token') || k === 'additional_special_tokens');
  const specials = [...Object.values(map), ...configured.map(([, v]) => v)].flatMap((v) => (Array.isArray(v) ? v.flatMap(named) : named(v)));
  return new WordPieceTokenizer(text, lowerCase, specials);
}
