// One point of a memory profile: the model as it is (not tapped) in a session with ONNX
// Runtime's profiler on, a warm-up run and a profiled run at n positions and a batch, and the
// trace that the profiler wrote (read, then deleted). The trace is read by src/analysis/profileTrace.ts.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { seededUniform } from '../analysis/seededRandom';
import { AttentionSites, attentionSites, tapRewrite } from './attentionTap';
import { tappedSession } from './tappedSession';
import { attentionOperators } from './attentionOperators';
import type { LoadOptions } from './capture';
import { InputError } from './inputError';
import { modelFeeds } from './modelFeeds';
import { modelConfig, modelFiles, tokenizerAt } from './modelFiles';
import { InputPlan, concreteDims, inputPlan } from './modelInputs';
import { FUSED_OPS } from './fusedAttention';
import { ONNX_FLOAT, ONNX_FLOAT16, OnnxModel, OnnxNode, onnxModel } from './onnxGraph';
import { providerRun } from './executionProviders';
import { OrtFeeds, OrtSession, createSession, probedProvider, repeatedTensor } from './ortSession';
import { configNumber, embeddingRows, positionsLimit } from './positionLimits';
import { likelyCause } from './runFailure';
import { readUserFile } from './userFiles';

export interface ProfileInput {
  n: number;
  batch: number;
  /** a text repeated to n tokens; seeded random ids without one */
  text?: string;
  seed?: number;
  /** ONNX Runtime's memory pattern (its default, on): the run's memory planned and allocated as one block */
  memPattern?: boolean;
  /** run the capture's tapped copy as well, after the model as it is */
  tapped?: boolean;
}

/** What a sweep needs to know of the model before its first point. */
export interface ProfileTarget {
  path: string;
  maxPositions: number | null;
  maxPositionsFrom: string | null;
  /** attention layers found in the graph, and their nodes */
  attentionLayers: number;
  attentionNodes: string[];
  sequenceMode: string;
  /** bytes of the graph's initializers */
  weightsBytes: number;
  /** the config beside the model (config.json, or genai_config.json), which the estimate reads */
  configPath: string | null;
  /** the model reads a key/value cache */
  hasPast: boolean;
  /** the element type most of its weights have: float16 or float32 */
  floatType: 'float16' | 'float32';
  /** the fused op that holds its attention (GroupQueryAttention, Attention, ...), when one does */
  fusedOp: string | null;
  /** the attention's sizes as the graph states them (a fused op's head counts, a cache's shape), for an estimate without a config */
  graphDims: GraphAttentionDims | null;
}

export interface GraphAttentionDims {
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/**
 * Head counts and head size from the graph: a fused op's num_heads and kv_num_heads, a cache
 * input's [.., kv heads, past, head size] (GPT-2's [2, batch, heads, past, head size] alike).
 */
function graphAttentionDims(fused: OnnxNode | undefined, plan: InputPlan, layers: number): GraphAttentionDims | null {
  const past = plan.inputs.find((i) => i.role === 'past');
  const pastAxis = past ? past.shape.findIndex((d, k) => typeof d !== 'number' && k > 0 && d !== plan.batchSymbol) : -1;
  const cacheHeads = past && pastAxis > 0 ? past.shape[pastAxis - 1] : undefined;
  const cacheHeadDim = past?.shape.at(-1);
  const heads = fused?.attributes.get('num_heads')?.i ?? (typeof cacheHeads === 'number' ? cacheHeads : undefined);
  const kvHeads = fused?.attributes.get('kv_num_heads')?.i ?? (typeof cacheHeads === 'number' ? cacheHeads : heads);
  if (!layers || !heads || !kvHeads || typeof cacheHeadDim !== 'number') return null;
  return { layers, heads, kvHeads, headDim: cacheHeadDim };
}

export interface ProfiledPointRun {
  trace: unknown;
  /** ONNX Runtime's node memory statistics (CSV) of the session's first run, where it wrote them */
  nodeStats?: string;
  /** the same point on the capture's tapped copy, where asked for */
  tapped?: { trace: unknown; wallMs: number; rssBytes: number | null };
  wallMs: number;
  /** VmHWM over the profiled run: reset after the warm-up where /proc/self/clear_refs allows */
  rssBytes: number | null;
  rssReset: boolean;
  executionProvider: string;
  /** the key/value cache the run leaves (past and positions fed), from its shapes */
  kvCacheBytes: number;
  /** how many query positions the run computes: n, or 1 for a model that takes one token per run */
  queries: number;
  target: ProfileTarget;
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 16: 2 };

interface OpenedModel {
  target: ProfileTarget;
  vocab: number;
  config: Record<string, unknown> | undefined;
  files: ReturnType<typeof modelFiles>;
  model: OnnxModel;
  sites: AttentionSites;
}

function opened(load: LoadOptions): OpenedModel {
  const files = modelFiles(load.model);
  if (files.decoderPath) throw new InputError(`${basename(files.modelPath)} is an encoder-decoder's encoder: profile one ONNX file (the encoder or the decoder) at a time`);
  const model = onnxModel(readUserFile(files.modelPath, 'model'), basename(files.modelPath));
  const sites = attentionSites(model);
  const ops = attentionOperators(model, sites);
  const config = modelConfig(files);
  const weightsBytes = [...model.initializers.values()].reduce((s, i) => s + i.dims.reduce((a, b) => a * b, 1) * (ELEMENT_BYTES[i.dataType] ?? 4), 0);
  const plan = inputPlan(
    model.inputs.filter((i) => !model.initializers.has(i.name)).map((i) => ({ name: i.name, type: ortType(i.elemType), shape: (i.dims ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : (d ?? 'dim'))) })),
    model.outputs.map((o) => o.name),
  );
  const { maxPositions, from } = positionsLimit(model, plan, config, files);
  const idsInput = plan.inputs.find((i) => i.role === 'ids');
  const vocab = embeddingRows(model, idsInput?.name) ?? configNumber(config, ['vocab_size']) ?? 2;
  const halves = [...model.initializers.values()].filter((i) => i.dataType === ONNX_FLOAT16).length;
  const floats = [...model.initializers.values()].filter((i) => i.dataType === ONNX_FLOAT).length;
  const fused = model.nodes.find((n) => FUSED_OPS.has(n.opType));
  return {
    target: {
      path: files.modelPath,
      maxPositions: maxPositions ?? null,
      maxPositionsFrom: maxPositions === undefined ? null : from,
      attentionLayers: ops.layers,
      attentionNodes: ops.nodes,
      sequenceMode: plan.mode.kind,
      weightsBytes,
      configPath: files.configPath ?? files.genaiConfigPath ?? null,
      hasPast: plan.hasPast,
      floatType: halves > floats ? 'float16' : 'float32',
      fusedOp: fused?.opType ?? null,
      graphDims: graphAttentionDims(fused, plan, ops.layers),
    },
    vocab,
    config,
    files,
    model,
    sites,
  };
}

const ortType = (elemType: number): string => ({ 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' })[elemType] ?? 'float32';

export function profileTarget(load: LoadOptions): ProfileTarget {
  return opened(load).target;
}

/** n ids: the text's tokens repeated, or seeded random ids of the vocabulary. */
function inputIds(m: OpenedModel, input: ProfileInput): number[] {
  if (input.text !== undefined) {
    const path = m.files.tokenizerPath;
    if (!path) throw new InputError('the model has no tokenizer beside it: profile it on random ids (leave out the text)');
    const ids = tokenizerAt(path, m.config, m.files.root).encode(input.text).ids;
    if (ids.length === 0) throw new InputError('the text gives no tokens');
    return Array.from({ length: input.n }, (_, i) => ids[i % ids.length]);
  }
  const next = seededUniform(input.seed ?? 0);
  // id 0 is commonly the padding: drawn from 1 up
  return Array.from({ length: input.n }, () => 1 + Math.floor(next() * Math.max(1, m.vocab - 1)));
}

/** The feeds at n positions: whole or padded inputs, or one token after a past of n - 1; each repeated over the batch. */
function pointFeeds(plan: InputPlan, ids: number[], batch: number): { feeds: OrtFeeds; queries: number; kvCacheBytes: number } {
  const stepwise = plan.mode.kind === 'stepwise';
  const n = ids.length;
  const padTo = plan.mode.kind === 'fixed' ? plan.mode.length : stepwise ? 1 : n;
  if (plan.mode.kind === 'fixed' && n > plan.mode.length) throw new InputError(`the model takes exactly ${plan.mode.length} positions: n = ${n} is more`);
  const fed = stepwise ? ids.slice(-1) : ids;
  const feeds = modelFeeds(plan, 0, fed, padTo, stepwise ? n - 1 : 0, new Map());
  let kvCacheBytes = 0;
  for (const input of plan.inputs) {
    const axis = input.shape.findIndex((d) => d === plan.batchSymbol);
    if (batch > 1 && axis >= 0) feeds[input.name] = repeatedTensor(feeds[input.name], axis, batch);
    // the cache the run leaves (its present outputs): the past and the positions fed
    if (input.role === 'past') kvCacheBytes += concreteDims(input, plan, padTo, (stepwise ? n - 1 : 0) + fed.length).reduce((a, b) => a * b, 1) * batch * (input.type === 'float16' ? 2 : 4);
  }
  return { feeds, queries: stepwise ? 1 : n, kvCacheBytes };
}

const NODE_STATS = 'node-memory.csv';

const HWM = /^VmHWM:\s+(\d+) kB/m;

function peakRssBytes(): number | null {
  try {
    const kib = HWM.exec(readFileSync('/proc/self/status', 'utf8'));
    return kib ? Number(kib[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets VmHWM to the current RSS (Linux 4.0+, where the process may write its clear_refs). */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** A profiled session's trace, its node statistics and the profiled run's time and peak RSS. */
interface ProfiledSessionRun {
  trace: unknown;
  nodeStats?: string;
  wallMs: number;
  rssBytes: number | null;
  rssReset: boolean;
}

/** A warm-up run and a profiled run of a session made with the profiler on, writing into `folder`; the trace read back. */
async function profiledSessionRun(session: OrtSession, feeds: OrtFeeds, folder: string, failed: (e: Error) => Error): Promise<ProfiledSessionRun> {
  const run = async (): Promise<void> => {
    try {
      // the outputs go at once: the warm-up's would otherwise sit in the profiled run's figures
      for (const t of Object.values(await session.run(feeds))) t.dispose();
    } catch (e) {
      throw failed(e as Error);
    }
  };
  await run();
  const rssReset = resetPeakRss();
  const started = performance.now();
  await run();
  const wallMs = performance.now() - started;
  const rssBytes = peakRssBytes();
  session.endProfiling();
  const written = readdirSync(folder).filter((f) => f.endsWith('.json'));
  if (written.length !== 1) throw new Error(`ONNX Runtime's profiler wrote ${written.length} trace files, not one`);
  const trace: unknown = JSON.parse(readFileSync(join(folder, written[0]), 'utf8'));
  // written on the first run, the warm-up, whose shapes are the profiled run's
  const nodeStats = existsSync(join(folder, NODE_STATS)) ? readFileSync(join(folder, NODE_STATS), 'utf8') : undefined;
  return { trace, ...(nodeStats === undefined ? {} : { nodeStats }), wallMs, rssBytes, rssReset };
}

const profilingIn = (folder: string, memPattern: boolean | undefined) => ({ filePrefix: join(folder, 'profile'), memPattern: memPattern ?? true, nodeStatsFile: join(folder, NODE_STATS) });

/**
 * One point: a fresh session with the profiler on, a warm-up run, the profiled run, and its
 * trace; with `tapped`, the same again on the capture's tapped copy (every layer's probabilities
 * as outputs), for what analysing costs on top.
 */
export async function profiledRun(load: LoadOptions, input: ProfileInput): Promise<ProfiledPointRun> {
  const m = opened(load);
  const folders = [mkdtempSync(join(tmpdir(), 'attention-lens-profile-'))];
  const sessions: OrtSession[] = [];
  const name = basename(m.files.modelPath);
  const failed = (e: Error): InputError => {
    const raw = e.message.split('\n')[0].slice(0, 400);
    return new InputError(`ONNX Runtime could not run ${name} at n = ${input.n}, batch ${input.batch}: ${likelyCause(raw, input.n)} (ONNX Runtime said: ${raw})`);
  };
  try {
    const providers = await providerRun(load.executionProvider, probedProvider);
    let created;
    try {
      created = await createSession(m.files.modelPath, providers, profilingIn(folders[0], input.memPattern));
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`ONNX Runtime cannot load ${name}: ${(e as Error).message}`);
    }
    const session = created.session;
    sessions.push(session);
    const plan = inputPlan(
      session.inputMetadata.map((md) => ({ name: md.name, type: md.isTensor ? md.type : 'non-tensor', shape: md.isTensor ? [...md.shape] : [] })),
      session.outputNames,
    );
    const { feeds, queries, kvCacheBytes } = pointFeeds(plan, inputIds(m, input), input.batch);
    const bare = await profiledSessionRun(session, feeds, folders[0], failed);
    let tapped: ProfiledSessionRun | undefined;
    if (input.tapped) {
      await session.release();
      sessions.pop();
      folders.push(mkdtempSync(join(tmpdir(), 'attention-lens-profile-')));
      const { rewrite } = tapRewrite(m.model, m.sites.taps);
      const copy = (await tappedSession(m.files, m.model, rewrite, created.run, undefined, profilingIn(folders[1], input.memPattern))).session;
      sessions.push(copy);
      tapped = await profiledSessionRun(copy, feeds, folders[1], failed);
    }
    return { ...bare, ...(tapped ? { tapped } : {}), executionProvider: created.run.provider, kvCacheBytes, queries, target: m.target };
  } finally {
    for (const s of sessions) await s.release().catch(() => undefined);
    for (const f of folders) rmSync(f, { recursive: true, force: true });
  }
}
