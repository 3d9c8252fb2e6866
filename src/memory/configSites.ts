// Where model configurations stand in a document: Hugging Face config.json, YAML configs,
// and Python (config classes' keyword arguments, PyTorch attention modules, module-level
// assignments), read with real parsers (yaml, @lezer/python).
import type { SyntaxNode, Tree, TreeFragment } from '@lezer/common';
import { Node as JsonNode, ParseError, getNodeValue, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Node as YamlNode } from 'yaml';
import type { Dtype } from './attentionMemory';
import { DIM_KEYS, ModelDims, dimsFromValues, dtypeOf, isDimKey, missingDims } from './modelDims';

export type ConfigLanguage = 'json' | 'yaml' | 'python';

export interface ConfigSite {
  /** offsets of the configuration in the text */
  from: number;
  to: number;
  /** what was recognised: "BertConfig(...)", "config.json", "model:" */
  label: string;
  dims: ModelDims;
  /** what an estimate still needs */
  missing: string[];
}

/** A training setting found in the file, and the key that set it ("training.seq_len"). */
export interface FileSetting<T> {
  value: T;
  key: string;
}

/** The run the file describes: its own sequence length, batch and precision keys, wherever they stand. */
export interface FileSettings {
  seq?: FileSetting<number>;
  batch?: FileSetting<number>;
  dtype?: FileSetting<Dtype>;
}

export interface ConfigScan {
  sites: ConfigSite[];
  /** the file's own training keys, the first of each kind in the document */
  training?: FileSettings;
  /** why (part of) the text could not be read */
  problems: string[];
  /** Python's syntax tree, kept so that an edit reparses only what changed */
  tree?: Tree;
}

/** An edit in the coordinates of the text before it. */
export interface TextChange {
  from: number;
  to: number;
  insertedLength: number;
}

/** The reusable parts of a Python tree after edits (ascending, non-overlapping, all in the old text's coordinates). */
export function fragmentsAfter(previous: readonly TreeFragment[] | Tree, changes: readonly TextChange[]): readonly TreeFragment[] {
  const { Tree, TreeFragment } = python().common;
  const base = previous instanceof Tree ? TreeFragment.addTree(previous) : previous;
  let shift = 0;
  const ranges = [...changes]
    .sort((a, b) => a.from - b.from)
    .map((c) => {
      const r = { fromA: c.from, toA: c.to, fromB: c.from + shift, toB: c.from + shift + c.insertedLength };
      shift += c.insertedLength - (c.to - c.from);
      return r;
    });
  return TreeFragment.applyChanges(base, ranges);
}

// A mapping is taken for a model config when it names at least two attention dimensions.
const MIN_KEYS = 2;

// Keys of a training run (trainers' arguments, nanoGPT, Lightning, accelerate, DeepSpeed).
const SEQ_KEYS = new Set(['seq_len', 'seq_length', 'sequence_length', 'max_seq_length', 'max_seq_len', 'block_size', 'cutoff_len', 'max_source_length']);
const BATCH_KEYS = new Set(['batch_size', 'per_device_train_batch_size', 'train_batch_size', 'micro_batch_size', 'train_micro_batch_size_per_gpu', 'per_device_batch_size']);
const PRECISION_KEYS = new Set(['precision', 'mixed_precision', 'dtype', 'torch_dtype']);
// A nested config (text_config, genai's decoder) takes these from the mapping around it when it lacks them.
const INHERITED_KEYS = ['torch_dtype', 'dtype', 'quantization_config', 'type', 'context_length', 'attn_implementation', '_attn_implementation'];

/** Records a key of a training run, the first of each kind. */
function noteTraining(training: FileSettings, key: string, value: unknown, parent: string): void {
  const k = key.toLowerCase();
  const where = parent === 'config' ? key : `${parent}.${key}`;
  if (SEQ_KEYS.has(k) && !training.seq && typeof value === 'number' && Number.isInteger(value) && value > 0) training.seq = { value, key: where };
  else if (BATCH_KEYS.has(k) && !training.batch && typeof value === 'number' && Number.isInteger(value) && value > 0) training.batch = { value, key: where };
  else if (!training.dtype) {
    const dtype = PRECISION_KEYS.has(k) ? dtypeOf(value) : (k === 'bf16' || k === 'fp16') && value === true ? (k as Dtype) : undefined;
    if (dtype) training.dtype = { value: dtype, key: where };
  }
}

/** What a mapping passes to the mappings inside it: its inherited keys, else those it inherited. */
const inheritedBy = (values: ReadonlyMap<string, unknown>, outer: ReadonlyMap<string, unknown>): Map<string, unknown> =>
  new Map(INHERITED_KEYS.flatMap((k) => (values.has(k) ? [[k, values.get(k)]] : outer.has(k) ? [[k, outer.get(k)]] : [])) as [string, unknown][]);

/** A mapping's values with what it inherits, only for one that may be a site (a copy of a large label map costs). */
const withInherited = (values: Map<string, unknown>, outer: ReadonlyMap<string, unknown>, known: number): Map<string, unknown> =>
  known < MIN_KEYS || outer.size === 0 ? values : new Map([...inheritedBy(new Map(), outer), ...values]);

/** The model configurations in a text; for Python, fragments of an earlier tree make the parse incremental. */
export function configSites(text: string, language: ConfigLanguage, fragments?: readonly TreeFragment[]): ConfigScan {
  if (language === 'python') return pythonSites(text, fragments);
  return language === 'json' ? jsonSites(text) : yamlSites(text);
}

function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** A mapping's scalar values, and how many of its keys name attention dimensions. */
function siteOf(values: Map<string, unknown>, known: number, from: number, to: number, label: string, sites: ConfigSite[]): void {
  if (known < MIN_KEYS) return;
  const dims = dimsFromValues(values);
  sites.push({ from, to, label, dims, missing: missingDims(dims) });
}

// jsonc-parser and the visit below recurse once per level: a deeper file would overflow the stack.
const MAX_JSON_DEPTH = 256;

/** Whether a JSON text nests arrays and objects deeper than `limit` (strings and comments skipped). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') while (++i < text.length && text[i] !== '"') i += text[i] === '\\' ? 1 : 0;
    else if (c === '/' && text[i + 1] === '/') i = text.indexOf('\n', i) >>> 0;
    else if (c === '/' && text[i + 1] === '*') i = (text.indexOf('*/', i + 2) >>> 0) + 1;
    else if (c === '{' || c === '[') {
      if (++depth > limit) return true;
    } else if (c === '}' || c === ']') depth--;
  }
  return false;
}

// JSON (with comments, as VS Code's jsonc) through jsonc-parser, which keeps offsets and is fast on large files.
function jsonSites(text: string): ConfigScan {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return { sites: [], problems: [`the JSON nests deeper than ${MAX_JSON_DEPTH} levels: not a model configuration`] };
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length || !root) {
    const e = errors[0];
    return { sites: [], problems: [e ? `JSON error at ${lineAndColumn(text, e.offset)}: ${printParseErrorCode(e.error)}` : 'the JSON is empty'] };
  }
  const sites: ConfigSite[] = [];
  const training: FileSettings = {};
  const visit = (node: JsonNode, label: string, outer: ReadonlyMap<string, unknown>): void => {
    if (node.type === 'array') node.children?.forEach((c, i) => visit(c, `${label}[${i}]`, outer));
    if (node.type !== 'object') return;
    const values = new Map<string, unknown>();
    const nested: [JsonNode, string][] = [];
    let known = 0;
    for (const prop of node.children ?? []) {
      const [keyNode, valueNode] = prop.children ?? [];
      if (!keyNode || !valueNode) continue;
      const key = String(keyNode.value);
      if (valueNode.type === 'object' || valueNode.type === 'array') nested.push([valueNode, key]);
      // small nested mappings are values too (quantization_config, genai's sliding_window); big ones (id2label) are not read whole
      if (valueNode.type === 'array' || (valueNode.type === 'object' && (valueNode.children?.length ?? 0) <= 16)) values.set(key, getNodeValue(valueNode));
      else if (valueNode.type !== 'object') {
        values.set(key, valueNode.value);
        noteTraining(training, key, valueNode.value, label);
        if (isDimKey(key)) known++;
      }
    }
    const inner = nested.length ? inheritedBy(values, outer) : outer;
    for (const [child, key] of nested) visit(child, key, inner);
    siteOf(withInherited(values, outer, known), known, node.offset, node.offset + node.length, label, sites);
  };
  visit(root, 'config', new Map());
  sites.sort((a, b) => a.from - b.from);
  return { sites, problems: [], training };
}

export function languageOfPath(path: string): ConfigLanguage | undefined {
  if (/\.jsonc?$/i.test(path)) return 'json';
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  if (/\.py$/i.test(path)) return 'python';
  return undefined;
}

// The YAML and Python parsers load on first use (the bundle then runs their modules): an
// activation by a command, or by a JSON file, does not pay for building their tables.
let yamlModule: typeof import('yaml') | undefined;
// The Python parser and the tree classes its fragments are checked against are required
// together: a bundle that imported @lezer/common as a module and required the parser would
// hold two copies of it, and the parser would reparse everything instead of reusing fragments.
let pythonModules: { parser: typeof import('@lezer/python').parser; common: typeof import('@lezer/common') } | undefined;
const python = (): NonNullable<typeof pythonModules> =>
  (pythonModules ??= { parser: (require('@lezer/python') as typeof import('@lezer/python')).parser, common: require('@lezer/common') as typeof import('@lezer/common') });

/** The reusable parts of a whole Python tree, for the next parse of an edited text. */
export const treeFragments = (tree: Tree): readonly TreeFragment[] => python().common.TreeFragment.addTree(tree);

function yamlSites(text: string): ConfigScan {
  const { LineCounter, isMap, isScalar, isSeq, parseDocument } = (yamlModule ??= require('yaml') as typeof import('yaml'));
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = lines.linePos(e.pos[0]);
    return { sites: [], problems: [`YAML error at line ${at.line}, column ${at.col}: ${e.message.split('\n')[0]}`] };
  }
  const sites: ConfigSite[] = [];
  const training: FileSettings = {};
  const visit = (node: unknown, label: string, outer: ReadonlyMap<string, unknown>): void => {
    if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, `${label}[${i}]`, outer));
      return;
    }
    if (!isMap(node)) return;
    const values = new Map<string, unknown>();
    const nested: [unknown, string][] = [];
    let known = 0;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) continue;
      if (isScalar(pair.value)) {
        values.set(key, pair.value.value);
        noteTraining(training, key, pair.value.value, label);
        if (isDimKey(key)) known++;
      } else {
        if (isSeq(pair.value) || (isMap(pair.value) && pair.value.items.length <= 16)) values.set(key, pair.value.toJSON());
        nested.push([pair.value, key]);
      }
    }
    const inner = nested.length ? inheritedBy(values, outer) : outer;
    for (const [child, key] of nested) visit(child, key, inner);
    const range = (node as YamlNode).range ?? [0, text.length];
    siteOf(withInherited(values, outer, known), known, range[0], range[1], label, sites);
  };
  visit(doc.contents, 'config', new Map());
  sites.sort((a, b) => a.from - b.from);
  return { sites, problems: [], training };
}

// Positional parameters of PyTorch's attention modules, and the layers each stands for.
const TORCH_MODULES: Record<string, { positional: string[]; layers?: number }> = {
  MultiheadAttention: { positional: ['embed_dim', 'num_heads'], layers: 1 },
  TransformerEncoderLayer: { positional: ['d_model', 'nhead'], layers: 1 },
  TransformerDecoderLayer: { positional: ['d_model', 'nhead'], layers: 1 },
  Transformer: { positional: ['d_model', 'nhead', 'num_encoder_layers', 'num_decoder_layers'] },
  TransformerEncoder: { positional: ['encoder_layer', 'num_layers'] },
  TransformerDecoder: { positional: ['decoder_layer', 'num_layers'] },
};

type PyValue = number | boolean | string | Map<string, PyValue> | undefined;

function pythonSites(text: string, fragments?: readonly TreeFragment[]): ConfigScan {
  const { parser } = python();
  const tree = parser.parse(text, fragments);
  const problems: string[] = [];
  const src = (n: SyntaxNode): string => text.slice(n.from, n.to);
  const syntaxError = (pos: number): string => `Python syntax error at ${lineAndColumn(text, pos).replace(/, column \d+$/, '')}`;
  const names = new Map<string, PyValue>();
  const sites: ConfigSite[] = [];
  const training: FileSettings = {};
  const assigned: { name: string; node: SyntaxNode }[] = [];

  const evaluate = (n: SyntaxNode | null): PyValue => {
    if (!n) return undefined;
    switch (n.name) {
      case 'Number': {
        const v = Number(src(n).replace(/_/g, ''));
        return Number.isFinite(v) ? v : undefined;
      }
      case 'Boolean':
        return src(n) === 'True';
      case 'String':
        return src(n).replace(/^[rbuf]*(['"]{1,3})([\s\S]*)\1$/i, '$2');
      case 'VariableName':
        return names.get(src(n));
      case 'ParenthesizedExpression':
        return evaluate(n.firstChild?.nextSibling ?? null);
      case 'UnaryExpression': {
        const v = evaluate(n.lastChild);
        return typeof v === 'number' && src(n).trim().startsWith('-') ? -v : v;
      }
      case 'BinaryExpression': {
        const a = evaluate(n.firstChild);
        const b = evaluate(n.lastChild);
        const op = n.firstChild?.nextSibling ? src(n.firstChild.nextSibling).trim() : '';
        if (typeof a !== 'number' || typeof b !== 'number') return undefined;
        return op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '//' ? Math.floor(a / b) : op === '/' ? a / b : op === '**' ? a ** b : undefined;
      }
      case 'CallExpression':
        return callSite(n)?.values;
      default:
        return undefined;
    }
  };

  // A call's arguments by parameter name; positional ones named from the module's signature.
  const callSite = (call: SyntaxNode): { values: Map<string, PyValue>; label: string; layers?: number } | undefined => {
    const callee = call.firstChild;
    if (!callee) return undefined;
    const name = callee.name === 'MemberExpression' ? src(callee.lastChild!) : src(callee);
    const torch = TORCH_MODULES[name];
    if (!torch && !name.endsWith('Config')) return undefined;
    const args = call.getChild('ArgList');
    if (!args) return undefined;
    const values = new Map<string, PyValue>();
    let position = 0;
    for (let a = args.firstChild; a; a = a.nextSibling) {
      if (a.name === '(' || a.name === ')' || a.name === ',') continue;
      if (a.name === 'VariableName' && a.nextSibling?.name === 'AssignOp') {
        const value = a.nextSibling.nextSibling;
        values.set(src(a), evaluate(value));
        a = value ?? a;
        continue;
      }
      if (torch && position < torch.positional.length) values.set(torch.positional[position], evaluate(a));
      position++;
    }
    // The class names the architecture (GPT2Config: a decoder) when the arguments do not.
    if (!torch && !values.has('model_type')) values.set('model_type', name.replace(/Config$/, '').toLowerCase());
    if (/Decoder/.test(name)) values.set('is_decoder', true);
    // A stack of layers takes its sizes from the layer it repeats.
    for (const inner of ['encoder_layer', 'decoder_layer']) {
      const layer = values.get(inner);
      if (layer instanceof Map) for (const [k, v] of layer) if (!values.has(k)) values.set(k, v);
    }
    return { values, label: `${name}(…)`, layers: torch?.layers };
  };

  const addSite = (from: number, to: number, label: string, values: Map<string, PyValue>, layers?: number): void => {
    const plain = new Map<string, unknown>([...values].filter(([, v]) => !(v instanceof Map)));
    const known = [...plain.keys()].filter(isDimKey).length;
    if (layers !== undefined && ![...plain.keys()].some((k) => DIM_KEYS.layers.includes(k))) plain.set('num_layers', layers);
    siteOf(plain, known, from, to, label, sites);
  };

  const script = tree.topNode;
  for (let stmt = script.firstChild; stmt; stmt = stmt.nextSibling) {
    if (stmt.type.isError && !problems.length) problems.push(syntaxError(stmt.from));
    if (stmt.name !== 'AssignStatement') continue;
    const target = stmt.firstChild;
    const value = stmt.lastChild;
    if (target?.name !== 'VariableName' || !value) continue;
    const v = evaluate(value);
    names.set(src(target), v);
    if (value.name !== 'CallExpression') assigned.push({ name: src(target), node: stmt });
  }
  // Calls anywhere in the file, in document order (inside functions and classes too).
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError && !problems.length) problems.push(syntaxError(ref.from));
      // a keyword argument or an assignment of a training key (TrainingArguments(per_device_train_batch_size=4), block_size = 1024)
      if (ref.name === 'AssignOp') {
        const name = ref.node.prevSibling;
        if (name?.name === 'VariableName') {
          const key = src(name);
          if (SEQ_KEYS.has(key.toLowerCase()) || BATCH_KEYS.has(key.toLowerCase()) || PRECISION_KEYS.has(key.toLowerCase()) || key === 'bf16' || key === 'fp16') noteTraining(training, key, evaluate(ref.node.nextSibling), 'config');
        }
        return;
      }
      if (ref.name !== 'CallExpression') return;
      const site = callSite(ref.node);
      if (site) addSite(ref.from, ref.to, site.label, site.values, site.layers);
    },
  });
  // Module-level sizes given as plain assignments (NUM_HEADS = 12) form one config, when no
  // config call (which would use them) stands in the file.
  const sized = assigned.filter((a) => isDimKey(a.name) && typeof names.get(a.name) === 'number');
  if (sized.length >= MIN_KEYS && sites.length === 0) {
    addSite(sized[0].node.from, sized[sized.length - 1].node.to, 'module-level sizes', new Map(sized.map((a) => [a.name.toLowerCase(), names.get(a.name)])));
  }
  sites.sort((a, b) => a.from - b.from);
  return { sites, problems, tree, training };
}
