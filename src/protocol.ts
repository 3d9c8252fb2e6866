// Messages between the extension host and the webview: one declaration for both sides, which
// imports only types of the pure analysis, so that the webview sees no host code. Notifications
// go host -> webview; requests (PanelMethods) go webview -> host and get a reply with the same id.
// Every message from the webview is checked with isWebviewMessage before use.
import type { MemoryProfile } from './analysis/memoryProfile';
import type { AttentionPart, Side } from './analysis/attentionCapture';
import type { AttentionRollout } from './analysis/attentionRollout';
import type { AttentionTile } from './analysis/attentionTiles';
import type { BudgetCurves, BudgetedMethod, HeadBuckets, LabOptions } from './analysis/efficientAttentionLab';
import type { HeadStats } from './analysis/headStats';
import type { ProbeOptions, RepeatedTokensProbe } from './analysis/inductionProbe';
import type { TokenPrediction } from './analysis/tokenPredictions';

export interface LayerSummary {
  /** the layer's index in the model (captures may hold chosen layers only) */
  index: number;
  name: string;
  heads: number;
  /** an encoder-decoder's: whose queries and keys the layer's are */
  part?: AttentionPart;
}

/** One head's statistics, as the head analysis reports them. */
export type HeadSummary = HeadStats;

export interface AnalysisSummary {
  causal: boolean;
  heads: HeadSummary[];
  relative: { offsets: number[]; profile: number[][] };
  headDistance?: { embedding: [number, number][] };
  /** head distances left out for their cost: about this long to compute on request */
  headDistanceSkipped?: { seconds: number };
  /** attention rollout and flow of each self-attention stack: [outputs][inputs] over the tokens */
  rollout?: AttentionRollout;
  /** texts the statistics average: more than one in corpus mode */
  texts: number;
}

export type BucketSummary = HeadBuckets;

export interface LabSummary {
  heads: { layer: number; head: number; methods: { method: string; recall: number; scoresComputed: number }[] }[];
  equalBudget: { budget: number; methods: Record<string, BudgetedMethod>; ranking: string[] };
  budgetCurves: BudgetCurves;
  buckets?: BucketSummary;
  notes: string[];
}

/** What the panel shows first: summaries only, no matrices. */
export interface CaptureSummary {
  modelPath: string;
  executionProvider: string;
  /** how the provider was chosen (skipped providers and why, the GPU): the header's tooltip */
  executionProviderLine?: string;
  tokens: string[];
  /** each token's [start, end) in the text: word boundaries come from them */
  offsets: [number, number][];
  /** an encoder-decoder's decoder tokens: the queries of its decoder layers, the keys of its self-attention */
  target?: Side;
  /** the induction probe, when the tokens are its random ids shown twice */
  probe?: RepeatedTokensProbe;
  /** a language model's top tokens at each [MASK], or after a causal model's text */
  predictions?: TokenPrediction[];
  layers: LayerSummary[];
  warnings: string[];
  analysis?: AnalysisSummary;
  lab?: LabSummary;
  /** what produced the capture, so that a reloaded window can produce it again */
  source?: CaptureSource;
  /** the model's name and the header's tooltip for it, where its path would say less (the built-in specimen) */
  modelLabel?: { name: string; detail: string };
}

export interface CaptureSource {
  model: string;
  /** the text shown in the heatmaps (a corpus's first text) */
  text: string;
  /** token ids given instead of a text, for a model without a tokenizer */
  ids?: number[];
  /** the induction probe instead of a text */
  probe?: ProbeOptions;
  /** an encoder-decoder's target text */
  targetText?: string;
  layers?: number[];
  /** a corpus file or folder whose texts the statistics average */
  corpus?: string;
  /** the efficient-attention lab's options, when it ran */
  lab?: LabOptions;
  /** a tokenizer.json or vocab.txt the user chose for a model without one beside it */
  tokenizer?: string;
  /** an audio encoder's log-mel features: the .npy file the user chose */
  inputFeatures?: string;
}

/** The name a model goes by: its folder's (the parent of optimum's onnx/), or the file's when it lies loose. */
export function modelName(modelPath: string): string {
  const parts = modelPath.split(/[\\/]/).filter(Boolean);
  const file = parts.at(-1) ?? modelPath;
  if (!/\.onnx$/i.test(file)) return file;
  const folder = parts.at(-2) === 'onnx' ? parts.at(-3) : parts.at(-2);
  return folder ?? file;
}

/** The start of a text on one line, cut at a word with an ellipsis past `chars`. */
export function textPreview(text: string, chars = 24): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= chars) return line;
  const cut = line.slice(0, chars);
  return `${cut.includes(' ') ? cut.slice(0, cut.lastIndexOf(' ')) : cut}…`;
}

/** Why two captures cannot be compared head by head, in one line; undefined when they have the same layers and heads. */
export function shapeMismatch(first: CaptureSummary, second: CaptureSummary): string | undefined {
  const [a, b] = [first.layers, second.layers];
  if (a.length !== b.length) return `the first capture has ${a.length} layers, the second ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i].index !== b[i].index) return `the first capture holds layer ${a[i].index} where the second holds layer ${b[i].index}`;
    if (a[i].heads !== b[i].heads) return `layer ${a[i].index} has ${a[i].heads} heads in the first capture, ${b[i].heads} in the second`;
    if (a[i].part !== b[i].part) return `layer ${a[i].index} is ${a[i].part ?? 'self-attention'} in the first capture, ${b[i].part ?? 'self-attention'} in the second`;
  }
  return undefined;
}

/** One head's attention [queries][keys], row-major. */
export interface HeadMatrix {
  layer: number;
  head: number;
  queries: number;
  keys: number;
  probs: Float32Array;
}

/** Memory against sequence length for every method, the user's n marked, and the table rows. */
export interface MemoryChart {
  title: string;
  seq: number;
  /** bytes of every method at each n, with the same figures written out for hovers */
  series: { method: string; label: string; seq: number[]; bytes: number[]; bytesText: string[] }[];
  /** log-axis ticks at whole binary units */
  byteTicks: { values: number[]; text: string[] };
  table: { header: string[]; rows: string[][] };
  /** the estimate's input, kept in the webview's state to restore the panel */
  shape: Record<string, number | string | boolean>;
  /** the panel's controls as they stand, and their choices */
  controls: MemoryControls & { dtypes: string[]; modes: string[] };
  /** what the mode holds at its peak, one [what, bytes] line each */
  peak: [string, string][];
  /** each kind of attention in the model (encoder, decoder, cross), its own row */
  parts: { header: string[]; rows: string[][] };
  /** the config the panel follows, kept in the webview's state to follow it again after a reload */
  source?: MemorySource;
  /** why the followed config gives no estimate now (an edit in progress); the figures are the last ones */
  problem?: string;
}

/** A config in a document: the panel follows its edits. */
export interface MemorySource {
  uri: string;
  /** the config's place among the document's configs */
  index: number;
}

/** The memory panel's choices of n, batch, dtype, mode and kernel. */
export interface MemoryControls {
  seq: number;
  batch: number;
  dtype: string;
  mode: string;
  fusedKernel: boolean;
}

/** A window of one head's attention reduced to at most a screen of cells (each the max of its block). */
export interface HeadTile extends AttentionTile {
  layer: number;
  head: number;
  queries: number;
  keys: number;
}

/** What the attention panel's webview asks of its host, each request answered by one reply with its id. */
export interface PanelMethods {
  /** one head [queries][keys]; with words, `labels` names the words the rows and columns stand for */
  head: { params: { layer: number; head: number; words?: boolean }; result: { matrix: HeadMatrix; labels?: { queries: string[]; keys: string[] } } };
  /** a window [q0, q1) x [k0, k1) of a head, at most maxCells cells a side */
  tile: { params: { layer: number; head: number; q0: number; q1: number; k0: number; k1: number; maxCells: number }; result: HeadTile };
  /** the head distances an analysis left out for their cost: the summary drawn with their map */
  headMap: { params: Record<string, never>; result: CaptureSummary };
  /** one window [q0, q1) x [k0, k1) of every head of every layer, at most maxCells (<= 64) a side: the model view's thumbnails */
  window: { params: { q0: number; q1: number; k0: number; k1: number; maxCells: number }; result: { tiles: HeadTile[] } };
  /** one token's attention in every head of every layer that reads its text: its row (side 'query') or its column (side 'key') */
  tokenRow: { params: { token: number; side: 'query' | 'key'; text: 'source' | 'target' }; result: TokenRows };
  /** one head's LSH buckets and routing clusters, from the capture's queries and keys (the lab's settings) */
  buckets: { params: { layer: number; head: number }; result: BucketSummary };
  /** the compare panel's: the same window of the same head in its two captures (first, second) */
  pair: { params: { layer: number; head: number; q0: number; q1: number; k0: number; k1: number; maxCells: number }; result: { first: HeadTile; second: HeadTile } };
}

/** A token's row or column in every head: for each layer (its place among the captured layers) that reads the token's text, heads x length values. */
export interface TokenRows {
  token: number;
  side: 'query' | 'key';
  text: 'source' | 'target';
  layers: { layer: number; heads: number; length: number; values: Float32Array }[];
}

/** What the compare panel shows: two captures' summaries, side by side. */
export interface CompareSummary {
  first: CaptureSummary;
  second: CaptureSummary;
}

export type PanelMethod = keyof PanelMethods;

/** A method with its params (of method M, or any); the request adds its id. */
export type PanelCall<M extends PanelMethod = PanelMethod> = { [K in M]: { method: K; params: PanelMethods[K]['params'] } }[M];

/** A call as it travels, with the id its reply comes back with. */
export type PanelRequest<M extends PanelMethod = PanelMethod> = { type: 'request'; id: number } & PanelCall<M>;

/** The answer to the request with the same id: its method's result, or why there is none. */
export type PanelReply<M extends PanelMethod = PanelMethod> = {
  [K in M]: { type: 'reply'; id: number; method: K; result: PanelMethods[K]['result'] } | { type: 'reply'; id: number; method: K; error: string };
}[M];

/**
 * Each method's answer (of the methods M a panel answers), typed from PanelMethods: its result;
 * undefined to leave the request unanswered (it asked about a capture the panel no longer shows);
 * or a throw, whose message the reply carries.
 */
export type PanelHandlers<M extends PanelMethod = PanelMethod> = {
  [K in M]: (params: PanelMethods[K]['params']) => PanelMethods[K]['result'] | undefined | Promise<PanelMethods[K]['result'] | undefined>;
};

/** The reply to a request, from its method's handler; none where the handler leaves it unanswered; an error for a method the panel does not answer. */
export async function panelReply<M extends PanelMethod>(handlers: PanelHandlers<M>, request: PanelRequest): Promise<PanelReply | undefined> {
  const { id, method } = request;
  const handler = (handlers as Partial<Record<PanelMethod, (params: unknown) => unknown>>)[method];
  try {
    if (!handler) throw new Error(`this panel does not answer '${method}'`);
    const result = await handler(request.params);
    return result === undefined ? undefined : ({ type: 'reply', id, method, result } as PanelReply);
  } catch (e) {
    return { type: 'reply', id, method, error: e instanceof Error ? e.message : String(e) } as PanelReply;
  }
}

export type HostMessage =
  | { type: 'summary'; summary: CaptureSummary }
  /** the compare panel's two captures */
  | { type: 'compare'; compare: CompareSummary }
  | PanelReply
  | { type: 'memory'; chart: MemoryChart }
  /** a measured memory profile: the profiler's view; the estimate of the config beside the model, its first tab */
  | { type: 'profile'; profile: MemoryProfile; estimate?: MemoryChart }
  /** the panel holds no capture, and why (a restored panel that was not run again) */
  | { type: 'notice'; message: string; source?: CaptureSource };

export type WebviewMessage =
  | { type: 'ready' }
  | PanelRequest
  /** save a view's export: text (JSON, CSV, SVG) or base64 (PNG) */
  | { type: 'export'; fileName: string; content: string; base64: boolean }
  /** run the panel's model again on another text, in this panel */
  | { type: 'runAgain' }
  /** run the panel's capture again with the efficient-attention lab, in this panel */
  | { type: 'runLab' }
  /** compare the panel's capture with another open panel's */
  | { type: 'compareWith' };

/** The memory panel's own message: its controls changed (only the memory panel receives it). */
export type MemoryViewMessage = { type: 'memoryControls' } & MemoryControls;

/** Export names are plain file names: no folders, nothing hidden. */
export const isExportName = (name: unknown): name is string => typeof name === 'string' && /^[\w.-]{1,120}$/.test(name) && !name.startsWith('.');
const EXPORT_MAX_CHARS = 64 * 1024 * 1024;

/** Persisted with the webview's setState, so the view comes back as it was. */
export interface WebviewState {
  layer: number;
  head: number;
  view?: string;
  statistic?: string;
  threshold?: number;
  /** the bertviz-style line view instead of the heatmap */
  lines?: boolean;
  /** attention between words instead of pieces */
  words?: boolean;
  /** the spans view's coverage: span50, span90 or span99 */
  coverage?: string;
  /** a sparse pattern shaded over the head's heatmap, and its parameter */
  overlay?: string;
  overlayParameter?: number;
  /** the token view's token, and whether it shows the token's row (what it attends to) or its column (what attends to it) */
  token?: number;
  tokenSide?: 'query' | 'key';
  /** an encoder-decoder's: whether the token view's token is the source's or the target's */
  tokenText?: 'source' | 'target';
  /** the model view's window: its first token */
  modelWindowStart?: number;
  /** heads drawn over the shown one in the line view, each in its colour */
  lineHeads?: number[];
  /** the output token clicked in each stack of the rollout view */
  rolloutOutputs?: number[];
  /** heatmaps' colours: over the quantity's range ('fixed') or the data's, and 'linear', 'sqrt' or 'log' */
  colorRange?: string;
  colorCurve?: string;
  source?: CaptureSource;
  memoryShape?: Record<string, number | string | boolean>;
  memorySource?: MemorySource;
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Every key of `p` is one of `keys`: params pass on to the engine, so none goes unchecked. */
const keysWithin = (p: object, keys: readonly string[]): boolean => Object.keys(p).every((k) => keys.includes(k));

const WINDOW_KEYS = ['q0', 'q1', 'k0', 'k1', 'maxCells'] as const;
const TILE_KEYS = ['layer', 'head', ...WINDOW_KEYS] as const;

/** A window that is not empty, and a tile size from 1 to `maxCells`. */
function windowChecked(p: Record<string, unknown>, maxCells: number): boolean {
  const { q0, q1, k0, k1 } = p;
  const cells = p.maxCells;
  return isIndex(q0) && isIndex(q1) && isIndex(k0) && isIndex(k1) && isIndex(cells) && q0 < q1 && k0 < k1 && cells >= 1 && cells <= maxCells;
}

/** Each method's params checked, every one of them. */
const PARAMS_CHECKS: { [M in PanelMethod]: (p: Record<string, unknown>) => boolean } = {
  head: (p) => keysWithin(p, ['layer', 'head', 'words']) && isIndex(p.layer) && isIndex(p.head) && (p.words === undefined || typeof p.words === 'boolean'),
  tile: (p) => keysWithin(p, TILE_KEYS) && isIndex(p.layer) && isIndex(p.head) && windowChecked(p, 2048),
  headMap: (p) => keysWithin(p, []),
  window: (p) => keysWithin(p, WINDOW_KEYS) && windowChecked(p, 64),
  tokenRow: (p) => keysWithin(p, ['token', 'side', 'text']) && isIndex(p.token) && (p.side === 'query' || p.side === 'key') && (p.text === 'source' || p.text === 'target'),
  buckets: (p) => keysWithin(p, ['layer', 'head']) && isIndex(p.layer) && isIndex(p.head),
  pair: (p) => keysWithin(p, TILE_KEYS) && isIndex(p.layer) && isIndex(p.head) && windowChecked(p, 2048),
};

const isPanelMethod = (v: unknown): v is PanelMethod => typeof v === 'string' && Object.hasOwn(PARAMS_CHECKS, v);

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export function isWebviewMessage(msg: unknown): msg is WebviewMessage {
  if (!isRecord(msg)) return false;
  if (msg.type === 'ready' || msg.type === 'runAgain' || msg.type === 'runLab' || msg.type === 'compareWith') return true;
  if (msg.type === 'export') return isExportName(msg.fileName) && typeof msg.content === 'string' && msg.content.length <= EXPORT_MAX_CHARS && typeof msg.base64 === 'boolean';
  return msg.type === 'request' && isIndex(msg.id) && isPanelMethod(msg.method) && isRecord(msg.params) && PARAMS_CHECKS[msg.method](msg.params);
}

export function isMemoryViewMessage(m: unknown): m is MemoryViewMessage {
  if (!m || typeof m !== 'object') return false;
  const msg = m as Record<string, unknown>;
  const whole = (v: unknown): boolean => isIndex(v) && v >= 1 && v <= 2 ** 40;
  return msg.type === 'memoryControls' && whole(msg.seq) && whole(msg.batch) && typeof msg.dtype === 'string' && typeof msg.mode === 'string' && typeof msg.fusedKernel === 'boolean';
}
