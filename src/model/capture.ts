// A loaded, tapped model and the capture of its attention for one text: loading and probing
// (its heads, an encoder-decoder's parts, a loop's iterations), token limits, and the runs that
// give the probabilities (whole, one token at a time, an encoder then its decoder).
import { freemem } from 'node:os';
import { basename } from 'node:path';
import { AttentionCapture, AttentionPart, LayerAttention } from '../analysis/attentionCapture';
import { ProbeOptions, RepeatedTokensProbe, repeatedRandomIds } from '../analysis/inductionProbe';
import { binaryBytes } from '../analysis/units';
import { AttentionSiteInfo, AttentionTap, attentionSites, fusedAttentionMessage, tapRewrite } from './attentionTap';
import { ExecutionProviderChoice, GpuProvider, ProviderProbe, ProviderRun, cpuWhereNeeded, providerLine, providerRun } from './executionProviders';
import { InputError } from './inputError';
import { Seq2SeqFeeds, modelFeeds } from './modelFeeds';
import { ModelFiles, modelConfig, modelFiles, tokenizerAt } from './modelFiles';
import { InputPlan, PlannedInput, checkDeclaredShapes, inputPlan } from './modelInputs';
import { ModelFormatError, onnxModel } from './onnxGraph';
import { OrtFeeds, OrtSession, OrtTensor, SessionWithProvider, cpuOnlyOutput, firstAxisEntry, floatTensor, halfTensor, probedProvider, zeroTensor } from './ortSession';
import { npyArray } from './npyArray';
import { configNumber, embeddingRows, positionsLimit } from './positionLimits';
import { checkedRewrite } from './rewriteCheck';
import { RecurrenceOptions, RecurrenceRun, segmentRecurrence } from './segmentRecurrence';
import { likelyCause } from './runFailure';
import { logitPredictions, vocabularyLogits } from './logitPredictions';
import { isCausal } from '../analysis/headStats';
import type { TokenPrediction } from '../analysis/tokenPredictions';
import { tappedSession } from './tappedSession';
import { attentionPart, attentionRows, headVectors, packedHeadVectors } from './tensorLayout';
import { TextTokenizer, TokenizedText } from './tokenizerTypes';
import { readUserFile } from './userFiles';

export interface LoadOptions {
  model: string;
  executionProvider: ExecutionProviderChoice;
  /** a tokenizer.json or vocab.txt to use instead of the one beside the model */
  tokenizer?: string;
}

export interface ModelInput {
  name: string;
  type: string;
  shape: (number | string)[];
  role: string;
}

/** How one layer's attention is computed, with its heads (known after the first run). */
export interface LayerSiteReport extends AttentionSiteInfo {
  name: string;
  heads: number;
  /** the key/value head each query head reads, when heads share them */
  kvGroupOfHead?: number[];
  /** an encoder-decoder's: the encoder's self-attention, the decoder's, or its cross-attention */
  part?: AttentionPart;
}

export interface ModelInfo {
  path: string;
  layers: number;
  layerNames: string[];
  headsPerLayer: number[];
  attention: LayerSiteReport[];
  /** the element type of the probabilities as the model computes them */
  precision: string;
  /** the other ONNX files of the model's folder */
  variants: string[];
  executionProvider: string;
  /** how the provider was chosen: asked for, skipped and why, the GPU, the CPU instead */
  providerRun: ProviderRun;
  inputs: ModelInput[];
  tokenizer: string | null;
  maxPositions: number | null;
  /** where the limit was read: the config, or which part of the graph */
  maxPositionsFrom: string | null;
  vocabSize: number | null;
  sequenceMode: string;
  /** an encoder-decoder's decoder file and its inputs, when it is apart from the encoder's */
  decoder?: { path: string; inputs: ModelInput[] };
  /** the id the decoder starts from, before the target text */
  decoderStartId?: number;
  warnings: string[];
}

export interface CaptureOptions {
  text?: string;
  ids?: number[];
  /** an encoder-decoder's decoder input: a text after its start token, or the ids themselves */
  targetText?: string;
  targetIds?: number[];
  /** an audio encoder's log-mel features: a NumPy .npy file */
  inputFeatures?: string;
  /** the induction probe instead of a text: random tokens shown twice */
  probe?: ProbeOptions;
  /** indices of the attention layers to capture; all when absent */
  layers?: number[];
  includeQueryKey?: boolean;
  /** cut text longer than the model's positions instead of refusing it */
  truncate?: boolean;
  /** refuse a capture whose tensors would need more than this */
  memoryBudgetBytes?: number;
  /** the probabilities go to the host in the reply: one more copy of them in the engine */
  sendsProbabilities?: boolean;
}

const FLOAT_BYTES = 4;

/** What a capture may add to the engine by default: most of the free memory, since capturePeakBytes counts every copy. */
export const captureBudgetBytes = (): number => Math.floor(freemem() * 0.7);

/** How many bytes a capture will hold, from the heads found at load time. */
export function captureBytes(heads: number[], queries: number, keys: number, layers: number[]): number {
  return layers.reduce((sum, l) => sum + heads[l] * queries * keys * FLOAT_BYTES, 0);
}

/**
 * What a capture at `positions` adds to the engine's memory at its peak, as measured (npm run
 * bench prints both): ONNX Runtime's buffers of the captured probabilities and their copies in
 * JavaScript (twice the probabilities), the scores and probabilities of the layer being computed
 * (the largest layer's, captured or not), one more copy when the probabilities are sent to the
 * host, and half as much again with queries and keys (the lab). A model run one token at a time
 * holds its small outputs only once, besides the assembled probabilities.
 */
export function capturePeakBytes(heads: number[], positions: number, layers: number[], opts: { queryKey?: boolean; sent?: boolean; stepwise?: boolean } = {}): number {
  const probs = captureBytes(heads, positions, positions, layers);
  const largestLayer = Math.max(...heads) * positions * positions * FLOAT_BYTES;
  const held = opts.stepwise ? probs : 2 * probs + largestLayer;
  return (held + (opts.sent ? probs : 0)) * (opts.queryKey ? 1.5 : 1);
}

export class LoadedModel {
  private constructor(
    readonly info: ModelInfo,
    private readonly session: OrtSession,
    private readonly taps: AttentionTap[],
    private readonly plan: InputPlan,
    private readonly tokenizer: TextTokenizer | undefined,
    private readonly originalOutputs: string[],
    /** until a run has compared them, rewritten fused nodes and the original graph to compare with */
    private rewriteCheck?: { nodes: string[]; original: () => Promise<SessionWithProvider>; runsLeft: number },
  ) {}

  /** An encoder-decoder's decoder, run on the encoder's output; its layers follow the encoder's. */
  private decoder?: LoadedModel;
  /** per layer, which attention of an encoder-decoder it is (learned from the probe's shapes) */
  private parts?: (AttentionPart | undefined)[];

  /** `probe`: whether a GPU provider starts (the engine's, probed once; tests give their own) */
  static async load(opts: LoadOptions, probe: (p: GpuProvider) => Promise<ProviderProbe> = probedProvider): Promise<LoadedModel> {
    const files = modelFiles(opts.model);
    if (!files.decoderPath) return LoadedModel.loadGraph(files, opts, probe);
    const encoder = await LoadedModel.loadGraph({ ...files, decoderPath: undefined }, opts, probe, 'encoder');
    try {
      encoder.joined(await LoadedModel.loadGraph({ ...files, modelPath: files.decoderPath, decoderPath: undefined, variants: [], notes: [] }, opts, probe, encoder));
    } catch (e) {
      await encoder.release();
      throw e;
    }
    return encoder;
  }

  /** The decoder's layers after the encoder's, in one report. */
  private joined(decoder: LoadedModel): void {
    this.decoder = decoder;
    const [e, d] = [this.info, decoder.info];
    e.layers += d.layers;
    e.layerNames.push(...d.layerNames);
    e.headsPerLayer.push(...d.headsPerLayer);
    e.attention.push(...d.attention);
    e.decoder = { path: d.path, inputs: d.inputs };
    e.decoderStartId ??= d.decoderStartId;
    if (d.precision !== e.precision) e.precision = `${e.precision} (encoder), ${d.precision} (decoder)`;
    e.warnings.push(...d.warnings.filter((w) => !e.warnings.includes(w)));
  }

  /**
   * One graph loaded and probed. `part` 'encoder' marks an encoder-decoder's encoder; a
   * LoadedModel as `part` is the encoder whose output this graph, the decoder, reads.
   */
  private static async loadGraph(files: ModelFiles, opts: LoadOptions, probe: (p: GpuProvider) => Promise<ProviderProbe>, part?: 'encoder' | LoadedModel): Promise<LoadedModel> {
    const encoder = part instanceof LoadedModel ? part : undefined;
    const what = basename(files.modelPath);
    const model = onnxModel(readUserFile(files.modelPath, 'model'), what);
    let sites;
    try {
      sites = attentionSites(model);
    } catch (e) {
      // the graph's own faults (a cycle, a damaged subgraph) are named with its file
      throw e instanceof ModelFormatError ? new ModelFormatError(`${what}: ${e.message}`) : e;
    }
    const warnings: string[] = [];
    if (sites.taps.length === 0) {
      if (sites.fused.length) throw new InputError(`${what}: ${fusedAttentionMessage(sites.fused)}`);
      if (sites.skipped?.length) throw new InputError(`${what} has no attention to capture: its ${sites.skipped[0]}`);
      throw new InputError(
        `${what} has no attention to capture: no Softmax in its graph is computed from a MatMul of queries and keys` +
          (model.hasLocalFunctions ? ' (the model keeps some operators in local functions, which are not searched: export it with functions inlined)' : ''),
      );
    }
    warnings.push(...files.notes, ...(sites.skipped ?? []));
    if (sites.fused.length) warnings.push(`some attention is fused and cannot be captured: ${fusedAttentionMessage(sites.fused)}`);

    const { taps, rewrite } = tapRewrite(model, sites.taps);
    const run = cpuWhereNeeded(await providerRun(opts.executionProvider, probe), cpuOnlyOutput(taps.map((t) => t.site.op)));
    let created;
    try {
      created = await tappedSession(files, model, rewrite, run);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`ONNX Runtime cannot load ${what}: ${(e as Error).message}`);
    }
    // the run as the session started: on the CPU where the model needs it or where auto's GPU refused it
    const { session, run: ran } = created;
    if (ran.cpuInstead) warnings.push(ran.cpuInstead);
    // a model refused after its session started lets the session go: it would hold its weights
    try {
      const metadata = session.inputMetadata.map((m) => ({
        name: m.name,
        type: m.isTensor ? m.type : 'non-tensor',
        shape: m.isTensor ? [...m.shape] : [],
      }));
      const plan = inputPlan(metadata, session.outputNames);
      checkDeclaredShapes(plan, model.inputs, what);
      // the encoder's output, or its keys and values cached for the decoder's cross-attention
      const encoderStates = plan.inputs.find((i) => i.role === 'encoderStates' || /\.encoder\.(key|value)/.test(i.name));
      if (encoderStates && !encoder) {
        throw new InputError(
          `${what} is the decoder of an encoder-decoder model (its input ${encoderStates.name} takes the encoder's output), and no encoder_model.onnx of its precision is beside it: ` +
            "random encoder states would not show the model's cross-attention. Put the encoder beside it, or name the model's folder",
        );
      }
      const synthetic = plan.inputs.filter((i) => i.role === 'hidden' || i.role === 'weight').map((i) => i.name);
      if (synthetic.length) warnings.push(`inputs ${synthetic.join(', ')} take no token ids: they were filled with seeded random values, so this attention is the block's on random input`);

      const config = modelConfig(files);
      const tokenizerPath = opts.tokenizer ?? files.tokenizerPath;
      // a tokenizer found beside the model lies in its folder; one the user named may be anywhere
      const tokenizer = tokenizerPath ? tokenizerAt(tokenizerPath, config, opts.tokenizer ? undefined : files.root) : undefined;
      const idsInput = plan.inputs.find((i) => i.role === 'ids');
      const vocabRows = embeddingRows(model, idsInput?.name) ?? configNumber(config, ['vocab_size']);
      if (tokenizer && vocabRows && tokenizer.vocabSize > vocabRows) {
        throw new InputError(
          `the tokenizer (${basename(tokenizerPath!)}, ${tokenizer.vocabSize} entries) does not match the model: its embedding has ${vocabRows} rows, ` +
            'so some token ids would fall outside it. Use the tokenizer the model was trained with.',
        );
      }
      const { maxPositions, from: positionsFrom } = positionsLimit(model, plan, config, files);

      const info: ModelInfo = {
        path: files.modelPath,
        layers: taps.length,
        layerNames: taps.map((t) => t.name),
        headsPerLayer: [],
        executionProvider: ran.provider,
        providerRun: ran,
        inputs: plan.inputs.map((i) => ({ name: i.name, type: i.type, shape: [...i.shape], role: i.role })),
        tokenizer: tokenizerPath ? basename(tokenizerPath) : null,
        maxPositions: maxPositions ?? null,
        maxPositionsFrom: maxPositions === undefined ? null : positionsFrom,
        vocabSize: vocabRows ?? null,
        sequenceMode: plan.mode.kind,
        attention: [],
        precision: 'float32',
        variants: files.variants,
        warnings,
      };
      const unfused = taps.filter((t) => t.site.unfused).map((t) => t.softmaxNode);
      // The probe and the first capture each compare the rewrite with the original graph.
      const rewriteCheck = unfused.length
        ? { nodes: unfused, original: () => tappedSession(files, model, { extraOutputs: [] }, ran), runsLeft: 2 }
        : undefined;
      const configId = (key: string): number | undefined => {
        const v = config?.[key];
        return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
      };
      const startId = configId('decoder_start_token_id');
      if (startId !== undefined) info.decoderStartId = startId;
      const loaded = new LoadedModel(info, session, taps, plan, tokenizer, [...model.outputs.map((o) => o.name)], rewriteCheck);
      const probeIds = (length: number): number[] => Array.from({ length }, (_, i) => Math.min(i + 1, Math.max(0, (vocabRows ?? 2) - 1)));
      // a loop's iterations are counted on what the probe runs: ids, an encoder's output for a decoder, or features
      const countedOn = probeIds(plan.mode.kind === 'fixed' ? plan.mode.length : 4);
      if (taps.some((t) => t.iterations)) {
        const seq = encoder ? { encoderStates: await encoder.encoderStates(countedOn) } : loaded.takesFeatures ? { features: loaded.probeFeatures() } : {};
        await loaded.whileBusy(() => loaded.countIterations(loaded.takesFeatures ? [] : countedOn, seq));
      }
      if (part === 'encoder') loaded.parts = taps.map(() => 'encoder');
      // the induction probe's frame: the BOS that config.json or the tokenizer names, and the ids that stand for no text
      const bosId = configId('bos_token_id') ?? tokenizer?.bosId;
      const configSpecials = [bosId, configId('eos_token_id'), configId('pad_token_id'), startId].filter((id) => id !== undefined);
      loaded.inductionFrame = { bosId: bosId ?? null, specialIds: new Set([...(tokenizer?.specialIds ?? []), ...configSpecials]) };
      // A short probe run learns each layer's heads from the shapes and proves the taps run; an
      // encoder-decoder's source (4 tokens) and target (2) differ, so that the shapes tell its parts apart.
      const probeLength = plan.mode.kind === 'fixed' ? Math.min(plan.mode.length, 4) : 4;
      const allLayers = taps.map((_, i) => i);
      const probe = encoder
        ? await loaded.whileBusy(async () => (await loaded.runOnce(probeIds(2), allLayers, false, { encoderStates: await encoder.encoderStates(probeIds(8)) })).layers)
        : loaded.takesFeatures
          ? await loaded.whileBusy(async () => {
            const features = loaded.probeFeatures();
            const layers = (await loaded.runOnce([], allLayers, false, { features })).layers;
            loaded.positionsPerFrame = (layers[0]?.keys ?? 1) / Number(features.dims[2]);
            return layers;
          })
          : (await loaded.capture({ ids: probeIds(probeLength), includeQueryKey: false, memoryBudgetBytes: captureBudgetBytes(), ...(plan.inputs.some((i) => i.role === 'targetIds') ? { targetIds: probeIds(2) } : {}) })).layers;
      info.headsPerLayer = probe.map((l) => l.heads);
      info.precision = loaded.precision;
      info.attention = taps.map((t, l) => {
        const heads = info.headsPerLayer[l];
        const perKv = t.site.kvHeads ? heads / t.site.kvHeads : 0;
        const layerPart = loaded.parts?.[l];
        return { name: t.name, heads, ...t.site, ...(perKv >= 1 ? { kvGroupOfHead: Array.from({ length: heads }, (_, h) => Math.floor(h / perKv)) } : {}), ...(layerPart ? { part: layerPart } : {}) };
      });
      return loaded;
    } catch (e) {
      await session.release().catch(() => undefined);
      throw e;
    }
  }

  // A model the engine lets go of (files changed, too many open) may still be running a capture:
  // its session is released when the last one ends.
  private busy = 0;
  private state: 'open' | 'releasing' | 'released' = 'open';

  /** Frees ONNX Runtime's session, now or when the captures under way end. */
  async release(): Promise<void> {
    if (this.state === 'open') this.state = 'releasing';
    if (this.busy === 0) await this.releasedSession();
  }

  // an encoder-decoder's decoder goes with its encoder, once no capture uses either
  private async releasedSession(): Promise<void> {
    if (this.state !== 'releasing') return;
    this.state = 'released';
    await this.session.release();
    await this.decoder?.release();
  }

  private async whileBusy<T>(work: () => Promise<T>): Promise<T> {
    if (this.state !== 'open') throw new InputError(`the session of ${basename(this.info.path)} was released: run it again`);
    this.busy++;
    try {
      return await work();
    } finally {
      if (--this.busy === 0) await this.releasedSession();
    }
  }

  /**
   * Token pieces of a text, or of raw ids, with the limits of the model checked. `what` names an
   * encoder-decoder's target in messages; `reserved` positions are taken before it (its start token).
   */
  tokenize(opts: CaptureOptions, checkPositions = true, what = '', reserved = 0): TokenizedText & { warnings: string[] } {
    const warnings: string[] = [];
    let t: TokenizedText;
    if (opts.ids) {
      if (opts.ids.length === 0) throw new InputError(`no ${what}token ids given`);
      const vocab = this.info.vocabSize;
      const bad = opts.ids.find((id) => !Number.isInteger(id) || id < 0 || (vocab !== null && id >= vocab));
      if (bad !== undefined) throw new InputError(`${what}token id ${bad} is outside the model's vocabulary (0-${vocab === null ? '?' : vocab - 1})`);
      t = {
        ids: [...opts.ids],
        tokens: opts.ids.map((id) => this.tokenizer?.idToToken(id) ?? String(id)),
        offsets: opts.ids.map(() => [0, 0] as [number, number]),
        special: opts.ids.map(() => false),
      };
    } else {
      const text = opts.text ?? '';
      if (text.trim() === '') throw new InputError(`the ${what}text is empty: give some text to analyse`);
      if (!this.tokenizer) {
        throw new InputError(
          'the model has no tokenizer beside it (looked for tokenizer.json and vocab.txt): put one there, name one with --tokenizer, or pass token ids with --ids',
        );
      }
      t = this.tokenizer.encode(text);
      if (t.ids.length === 0) throw new InputError(`the ${what}text gives no tokens`);
      // a tokenizer.json may hold any id; one outside the embedding would be wrapped or read out of bounds
      const vocab = this.info.vocabSize;
      const bad = t.ids.findIndex((id) => !Number.isInteger(id) || id < 0 || (vocab !== null && id >= vocab));
      if (bad >= 0) throw new InputError(`the tokenizer gives '${t.tokens[bad]}' the id ${t.ids[bad]}, outside the model's vocabulary (0-${vocab === null ? '?' : vocab - 1}): it is not this model's tokenizer`);
    }
    const max = this.info.maxPositions === null ? null : this.info.maxPositions - reserved;
    if (checkPositions && max !== null && t.ids.length > max) {
      if (!opts.truncate) {
        throw new InputError(
          `the ${what}text is ${t.ids.length + reserved} tokens long but the model takes at most ${max + reserved} positions (${this.info.maxPositionsFrom}): shorten it, or pass --truncate to keep the first ${max + reserved}`,
        );
      }
      const keepLast = this.tokenizer?.addsSpecialTokens && !opts.ids ? 1 : 0;
      const cut = (a: unknown[]): void => void a.splice(max - keepLast, a.length - max);
      cut(t.ids);
      cut(t.tokens);
      cut(t.offsets);
      cut(t.special);
      warnings.push(`the ${what}text was cut to the model's ${max + reserved} positions`);
    }
    return { ...t, warnings };
  }

  capture(opts: CaptureOptions): Promise<AttentionCapture> {
    return this.whileBusy(() => this.captured(opts));
  }

  /** The token a probe starts with, and the ids it never draws. */
  private inductionFrame: { bosId: number | null; specialIds: ReadonlySet<number> } = { bosId: null, specialIds: new Set() };

  /** The ids of an induction probe, each copy fitted to the model's positions and vocabulary, and the probe as it runs. */
  private inductionProbeInput(asked: ProbeOptions): { ids: number[]; probe: RepeatedTokensProbe; warnings: string[] } {
    // an embedding padded past the tokenizer's entries has rows no text trains
    const vocab = Math.min(this.info.vocabSize ?? Infinity, this.tokenizer?.vocabSize ?? Infinity);
    if (!Number.isFinite(vocab)) {
      throw new InputError("the induction probe draws token ids from the model's vocabulary, whose size is unknown: the graph has no token embedding, config.json no vocab_size and there is no tokenizer");
    }
    const { bosId, specialIds } = this.inductionFrame;
    const ordinary = vocab - [...specialIds].filter((id) => id < vocab).length;
    const max = this.info.maxPositions;
    const fits = max === null ? Infinity : Math.floor((max - (bosId === null ? 0 : 1)) / 2);
    const length = Math.min(asked.length, fits, ordinary);
    // what holds the copies shorter than asked: the positions, or the vocabulary
    const why = fits <= ordinary ? `the model takes at most ${max} positions (${this.info.maxPositionsFrom})` : `the vocabulary has ${ordinary} tokens besides its special ones`;
    if (length < 2) throw new InputError(`the induction probe needs 2 tokens shown twice at least: ${why}`);
    const warnings = length < asked.length ? [`the induction probe was shortened to ${length} tokens shown twice: ${why}`] : [];
    const probe = { length, seed: asked.seed, bosId };
    return { ids: repeatedRandomIds(probe, vocab, specialIds), probe, warnings };
  }

  private async captured(opts: CaptureOptions): Promise<AttentionCapture> {
    if (opts.probe && (opts.text !== undefined || opts.ids)) throw new InputError('the induction probe is its own input: give no text or token ids with it');
    if (opts.probe && this.takesFeatures) throw new InputError(`${basename(this.info.path)} reads audio features, not token ids: the induction probe runs on models that read tokens`);
    const features = this.takesFeatures ? this.requiredFeatures(opts) : undefined;
    const probe = opts.probe && this.inductionProbeInput(opts.probe);
    const tok = features ? { ids: [], tokens: [], offsets: [], special: [], warnings: [] } : this.tokenize(probe ? { ...opts, ids: probe.ids } : opts);
    const n = tok.ids.length;
    const own = this.taps.length;
    const total = own + (this.decoder?.taps.length ?? 0);
    const layerIndices = opts.layers ?? Array.from({ length: total }, (_, i) => i);
    for (const l of layerIndices) {
      if (!Number.isInteger(l) || l < 0 || l >= total) {
        throw new InputError(`layer ${l} does not exist: the model has ${total} attention layers (0-${total - 1})`);
      }
    }
    const target = this.decoder || this.plan.inputs.some((i) => i.role === 'targetIds') ? this.targetTokens(opts) : undefined;
    if (!target && (opts.targetText !== undefined || opts.targetIds)) throw new InputError(`${basename(this.info.path)} is not an encoder-decoder: it takes no target text`);
    // an audio encoder's positions, from its features' frames as the probe found them
    const sourcePositions = features ? Math.ceil(Number(features.dims[2]) * this.positionsPerFrame) : n;
    const longest = Math.max(sourcePositions, target?.ids.length ?? 0);
    // a fixed-length model computes its whole length whatever the text's: the padding is cut afterwards
    const held = this.plan.mode.kind === 'fixed' ? Math.max(this.plan.mode.length, longest) : longest;
    if (this.plan.mode.kind === 'fixed') {
      const length = this.plan.mode.length;
      if (n > length) throw new InputError(`the text is ${n} tokens long but the model takes exactly ${length}`);
      if (n < length && !this.plan.inputs.some((i) => i.role === 'mask')) {
        throw new InputError(`the model takes exactly ${length} tokens and has no attention mask to hide padding: give ${length} tokens`);
      }
    }
    if (opts.memoryBudgetBytes !== undefined) {
      // before the probe has counted the heads, one per layer is the least a run holds
      const heads = this.info.headsPerLayer.length ? this.info.headsPerLayer : Array<number>(total).fill(1);
      const peak = (layers: number[]): number => capturePeakBytes(heads, held, layers, { queryKey: opts.includeQueryKey, sent: opts.sendsProbabilities, stepwise: this.plan.mode.kind === 'stepwise' });
      const need = peak(layerIndices);
      if (need > opts.memoryBudgetBytes) {
        let layersThatFit = 0;
        while (layersThatFit < layerIndices.length && peak(layerIndices.slice(0, layersThatFit + 1)) <= opts.memoryBudgetBytes) layersThatFit++;
        throw new InputError(
          `capturing ${layerIndices.length} layers at n = ${held}${held > n ? ` (the model's fixed length: the text's ${n} tokens are padded to it)` : ''} needs ${binaryBytes(need)} ` +
            `(${binaryBytes(captureBytes(heads, held, held, layerIndices))} of attention probabilities, the copies a run makes of them and a layer's scores), ` +
            `more than the ${binaryBytes(opts.memoryBudgetBytes)} the engine may use: ` +
            (layersThatFit > 0 ? `capture at most ${layersThatFit} layers (--layers) or a shorter text` : 'give a shorter text'),
        );
      }
    }
    const withQK = !!opts.includeQueryKey;
    let captured: LayerAttention[];
    let featurePositions = 0;
    let predictions: TokenPrediction[] | undefined;
    if (this.decoder) {
      // the encoder's layers, then the decoder's on the encoder's output, in the order asked
      const decoder = this.decoder;
      const mine = layerIndices.filter((l) => l < own);
      const theirs = layerIndices.filter((l) => l >= own).map((l) => l - own);
      const encoded = await this.runOnce(tok.ids, mine, withQK, features ? { features } : {});
      const states = encoded.outputs[this.encoderOutput];
      featurePositions = Number(states.dims[1]);
      const decoded = await decoder.whileBusy(() => decoder.runOnce(target!.ids, theirs, withQK, { encoderStates: states }));
      captured = layerIndices.map((l) => (l < own ? encoded.layers[mine.indexOf(l)] : decoded.layers[theirs.indexOf(l - own)]));
    } else if (this.plan.mode.kind === 'stepwise') {
      const run = await this.runStepwise(tok.ids, layerIndices, withQK);
      captured = run.layers;
      // the last step's logits: what follows the text
      predictions = this.predictions(run.lastOutputs, n - 1, tok.tokens, () => true);
    } else {
      const run = await this.runOnce(tok.ids, layerIndices, withQK, { ...(target ? { target: target.ids } : {}), ...(features ? { features } : {}) });
      captured = run.layers;
      featurePositions = captured.find((l) => !l.part || l.part === 'encoder')?.keys ?? 0;
      if (!target && !features) predictions = this.predictions(run.outputs, 0, tok.tokens, () => isCausal(captured));
    }
    // an audio encoder's positions are its output's rows (the frames after its convolutions), labelled by index
    if (features) {
      tok.tokens = Array.from({ length: featurePositions }, (_, p) => `${p}`);
      tok.offsets = tok.tokens.map(() => [0, 0]);
    }
    return {
      tokens: tok.tokens,
      inputIds: tok.ids,
      offsets: tok.offsets,
      ...(target ? { target: { tokens: target.tokens, inputIds: target.ids, offsets: target.offsets } } : {}),
      ...(probe ? { probe: probe.probe } : {}),
      layerIndices,
      layers: captured,
      executionProvider: this.info.executionProvider,
      executionProviderLine: providerLine(this.info.providerRun),
      ...(predictions?.length ? { predictions } : {}),
      warnings: [...this.info.warnings, ...(probe?.warnings ?? []), ...tok.warnings, ...(target?.warnings ?? [])],
    };
  }

  /** What a language model's logits among a run's outputs predict at the text's [MASK]s, or (causal) after it; none without such logits. */
  private predictions(outputs: Record<string, OrtTensor>, firstRow: number, tokens: string[], causal: () => boolean): TokenPrediction[] | undefined {
    const logits = vocabularyLogits(outputs, this.originalOutputs, this.info.vocabSize);
    // causality is looked at only where there are logits to read
    return logits && logitPredictions(logits, firstRow, tokens, causal, (id) => this.tokenizer?.idToToken(id) ?? String(id));
  }

  /** The features a capture of an audio encoder runs on, or the reason it cannot run without them. */
  private requiredFeatures(opts: CaptureOptions): OrtTensor {
    if (opts.inputFeatures === undefined) {
      throw new InputError(
        "the model's input input_features takes audio features (a Whisper-style encoder), not a text: give them with --input-features FILE.npy (the log-mel features its feature extractor computes, saved with numpy.save)",
      );
    }
    return this.featuresOf(opts.inputFeatures);
  }

  /** The encoder's output that its decoder reads. */
  private get encoderOutput(): string {
    return this.originalOutputs.find((o) => /last_hidden_state|encoder_out/.test(o)) ?? this.originalOutputs[0];
  }

  /** An encoder's output for some ids: what its decoder's probe reads. */
  private encoderStates(ids: number[]): Promise<OrtTensor> {
    return this.whileBusy(async () => (await this.runOnce(this.takesFeatures ? [] : ids, [], false, this.takesFeatures ? { features: this.probeFeatures() } : {})).outputs[this.encoderOutput]);
  }

  /** An audio encoder's positions per frame of its features (its convolutions' stride), from the probe. */
  private positionsPerFrame = 1;

  /** Whether the model's input is audio features rather than token ids (a Whisper encoder). */
  private get takesFeatures(): boolean {
    return this.plan.inputs.some((i) => i.role === 'features');
  }

  /** Silent features of the input's shape (16 frames where it names none): what the probe runs on. */
  private probeFeatures(): OrtTensor {
    const input = this.plan.inputs.find((i) => i.role === 'features')!;
    return zeroTensor(input.type, input.shape.map((d, axis) => (typeof d === 'number' ? d : axis === 0 ? 1 : 16)));
  }

  /** The features of a .npy file as the model's input takes them: [1, mels, frames], its mels and (when fixed) its frames. */
  private featuresOf(path: string): OrtTensor {
    const input = this.plan.inputs.find((i) => i.role === 'features')!;
    const { data, dims } = npyArray(readUserFile(path, 'features'), `the features file ${path}`);
    const shaped = dims.length === 2 ? [1, ...dims] : dims;
    const wrong = shaped.length !== 3 || shaped[0] !== 1 || input.shape.slice(1).some((d, i) => typeof d === 'number' && d !== shaped[i + 1]);
    if (wrong) throw new InputError(`the features in ${path} have the shape [${dims.join(', ')}], but ${input.name} takes [${input.shape.join(', ')}] (batch 1): compute them with the model's own feature extractor`);
    return input.type === 'float16' ? halfTensor(data, shaped) : floatTensor(data, shaped);
  }

  /**
   * The decoder's input: its start token, then the target text as the tokenizer encodes it
   * (as a model's training shifts its labels right); or the ids given; or the start token alone.
   */
  private targetTokens(opts: CaptureOptions): TokenizedText & { warnings: string[] } {
    const fromIds = opts.targetIds !== undefined;
    // the target is the decoder's: its vocabulary and its positions
    const decoder = this.decoder ?? this;
    if (fromIds) return decoder.tokenize({ ids: opts.targetIds, truncate: opts.truncate }, true, 'target ');
    const start = this.info.decoderStartId;
    if (start === undefined) {
      throw new InputError("the model's config.json names no decoder_start_token_id, so the decoder's first token is unknown: give the decoder's ids with --target-ids");
    }
    const head = { ids: [start], tokens: [this.tokenizer?.idToToken(start) ?? String(start)], offsets: [[0, 0]] as [number, number][], special: [true], warnings: [] };
    if (!opts.targetText?.trim()) return head;
    const t = decoder.tokenize({ text: opts.targetText, truncate: opts.truncate }, true, 'target ', 1);
    return { ids: [...head.ids, ...t.ids], tokens: [...head.tokens, ...t.tokens], offsets: [...head.offsets, ...t.offsets], special: [...head.special, ...t.special], warnings: t.warnings };
  }

  /**
   * Runs a long text through a decoder's cache as Transformer-XL does: one token per run, and at
   * every segment boundary the cache cut to the last `memory` positions (those that leave are
   * dropped, or mean-pooled into a compressed memory that is fed in front of the cache).
   */
  recurrence(opts: RecurrenceOptions): Promise<RecurrenceRun> {
    return this.whileBusy(() => this.recurrent(opts));
  }

  private async recurrent(opts: RecurrenceOptions): Promise<RecurrenceRun> {
    if (this.decoder || this.parts) throw new InputError('segment recurrence runs a decoder-only model through its cache; this is an encoder-decoder');
    const tok = this.tokenize({ text: opts.text, ids: opts.ids }, false);
    const runner = {
      plan: this.plan,
      taps: this.taps,
      firstOutput: this.originalOutputs[0],
      step: (id: number, past: number, cache: Map<string, OrtTensor>, fetch: string[]) => this.run(this.feeds([id], 1, past, cache), fetch),
    };
    return { tokens: tok.tokens, inputIds: tok.ids, ...(await segmentRecurrence(runner, tok.ids, opts)) };
  }

  // A run that ONNX Runtime refuses (an id outside the vocabulary, a shape it cannot take) is the
  // input's fault far more often than ours: say the likely cause, then what ONNX Runtime said.
  private async run(feeds: OrtFeeds, fetch: string[]): Promise<Record<string, OrtTensor>> {
    let out: Record<string, OrtTensor>;
    try {
      out = await this.session.run(feeds, [...new Set(fetch.map((f) => this.iterationOf.get(f)?.stacked ?? f))]);
    } catch (e) {
      const raw = (e as Error).message.split('\n')[0].slice(0, 400);
      const idsInput = this.plan.inputs.find((i) => i.role === 'ids');
      const positions = idsInput ? Number(feeds[idsInput.name]?.dims.at(-1)) : undefined;
      throw new InputError(`ONNX Runtime could not run ${basename(this.info.path)}: ${likelyCause(raw, positions)} (ONNX Runtime said: ${raw})`);
    }
    // a Loop's or Scan's layers: each its iteration of the stacked output
    for (const f of fetch) {
      const at = this.iterationOf.get(f);
      if (!at) continue;
      const ran = Number(out[at.stacked].dims[0]);
      if (ran !== at.of) throw new InputError(`the ${at.node} in ${basename(this.info.path)} ran ${ran} times on this input, not ${at.of} as on the first run: its layers are its iterations, and their number cannot change`);
      out[f] = firstAxisEntry(out[at.stacked], at.iteration);
    }
    return out;
  }

  /** Tensors of a Loop's or Scan's layers, by the name of each iteration: where they come from */
  private readonly iterationOf = new Map<string, { stacked: string; iteration: number; of: number; node: string }>();

  /**
   * A first run counts the iterations of each Loop or Scan that holds attention, and makes each
   * iteration a layer. A layer applied again with shared weights (ALBERT, Universal Transformers)
   * runs as many times on every input.
   */
  private async countIterations(ids: number[], seq: Seq2SeqFeeds): Promise<void> {
    const stacked = this.taps.filter((t) => t.iterations);
    if (stacked.length === 0) return;
    const feeds = this.feeds(ids, ids.length, 0, new Map(), { ...seq, ...(this.plan.inputs.some((i) => i.role === 'targetIds') ? { target: ids.slice(0, 2) } : {}) });
    const out = await this.run(feeds, stacked.map((t) => t.probsTensor));
    const expanded = this.taps.flatMap((t) => {
      if (!t.iterations) return [t];
      const of = Number(out[t.probsTensor].dims[0]);
      return Array.from({ length: of }, (_, i): AttentionTap => {
        const each = (name: string | undefined): string | undefined => {
          if (!name) return undefined;
          this.iterationOf.set(`${name}#${i}`, { stacked: name, iteration: i, of, node: `${t.site.inLoop} node` });
          return `${name}#${i}`;
        };
        return { ...t, name: `${t.name} (iteration ${i})`, probsTensor: each(t.probsTensor)!, queryTensor: each(t.queryTensor), keyTensor: each(t.keyTensor), iterations: false, site: { ...t.site, iteration: i } };
      });
    });
    this.taps.splice(0, this.taps.length, ...expanded);
    this.info.layers = expanded.length;
    this.info.layerNames = expanded.map((t) => t.name);
  }

  /** Feeds for one run: `ids` at positions past.., the cache given or empty; an encoder-decoder's target or encoder output. */
  private feeds(ids: number[], padTo: number, past: number, cache: Map<string, OrtTensor>, seq: Seq2SeqFeeds = {}): OrtFeeds {
    return modelFeeds(this.plan, this.tokenizer?.padId ?? 0, ids, padTo, past, cache, seq);
  }

  private fetchNames(layerIndices: number[], withQK: boolean): string[] {
    const names = new Set(this.originalOutputs);
    for (const l of layerIndices) {
      const t = this.taps[l];
      names.add(t.probsTensor);
      if (withQK && t.queryTensor && t.keyTensor) {
        names.add(t.queryTensor);
        names.add(t.keyTensor);
      }
    }
    return [...names];
  }

  /** The element type of the last run's probabilities. */
  precision = 'float32';

  /** One run of the whole input: an encoder-decoder's graph of both also takes the target, its decoder the encoder's output. */
  private async runOnce(ids: number[], layerIndices: number[], withQK: boolean, seq: Seq2SeqFeeds = {}): Promise<{ layers: LayerAttention[]; outputs: Record<string, OrtTensor> }> {
    const padTo = this.plan.mode.kind === 'fixed' ? this.plan.mode.length : ids.length;
    const source = seq.encoderStates ? Number(seq.encoderStates.dims[1]) : ids.length;
    const target = seq.target?.length ?? ids.length;
    const feeds = this.feeds(ids, padTo, 0, new Map(), seq);
    // a fixed-length source is padded: its tensors hold padTo keys, of which the first are real
    const sourceHeld = seq.encoderStates ? source : padTo;
    const out = await this.run(feeds, this.fetchNames(layerIndices, withQK));
    if (this.rewriteCheck) await this.checkRewrite(feeds, out);
    // the probe's source and target lengths differ: each layer's shape says which attention it is
    if (!this.parts && (seq.target || seq.encoderStates) && layerIndices.length === this.taps.length) {
      this.parts = this.taps.map((t) => attentionPart(t.name, out[t.probsTensor], sourceHeld, target, !!seq.target));
    }
    const layers = layerIndices.map((l) => {
      const tap = this.taps[l];
      const part = this.parts?.[l];
      const probs = out[tap.probsTensor];
      // the positions of features are the encoder's own, read from its attention
      const own = seq.features ? Number(probs.dims[probs.dims.length - 1]) : ids.length;
      const [queries, keys] = part === 'cross' ? [target, source] : part === 'decoder' ? [target, target] : [own, own];
      this.precision = probs.type;
      const layer = attentionRows(tap.name, probs, queries, keys);
      if (part) layer.part = part;
      if (withQK && tap.queryTensor && tap.keyTensor) {
        const packed = tap.packedVectors;
        const query = packed ? packedHeadVectors(out[tap.queryTensor], queries, packed, 'query') : headVectors(out[tap.queryTensor], queries, false);
        const key = packed ? packedHeadVectors(out[tap.keyTensor], keys, packed, 'key') : headVectors(out[tap.keyTensor], keys, tap.keyOperandIsTransposed);
        if (query && key) {
          layer.query = query;
          layer.key = key;
        }
      }
      return layer;
    });
    return { layers, outputs: out };
  }

  private async checkRewrite(feeds: OrtFeeds, out: Record<string, OrtTensor>): Promise<void> {
    const check = this.rewriteCheck!;
    // an original graph that cannot be run leaves the rewrite unchecked: it is refused as well
    const unchecked = (e: unknown): InputError =>
      e instanceof InputError ? e : new InputError(`the rewrite of fused attention cannot be checked: ONNX Runtime could not run the original graph of ${basename(this.info.path)} (${(e as Error).message})`);
    let original: OrtSession | undefined;
    try {
      original = (await check.original()).session;
      await checkedRewrite(original, out, feeds, this.originalOutputs, check.nodes);
    } catch (e) {
      throw unchecked(e);
    } finally {
      await original?.release();
    }
    if (--check.runsLeft === 0) this.rewriteCheck = undefined;
  }

  // Models that take one token per run (a decoder with a key/value cache): each run gives one
  // query row of every layer; the rows are assembled into the full causal matrix.
  private async runStepwise(ids: number[], layerIndices: number[], withQK: boolean): Promise<{ layers: LayerAttention[]; lastOutputs: Record<string, OrtTensor> }> {
    const n = ids.length;
    const cache = new Map<string, OrtTensor>();
    const pasts = this.plan.inputs.filter((i): i is PlannedInput & { presentOutput: string } => i.role === 'past' && !!i.presentOutput);
    const fetch = [...new Set([...this.fetchNames(layerIndices, withQK), ...pasts.map((p) => p.presentOutput)])];
    let layers: LayerAttention[] = [];
    let out: Record<string, OrtTensor> = {};
    for (let step = 0; step < n; step++) {
      const feeds = this.feeds([ids[step]], 1, step, cache);
      out = await this.run(feeds, fetch);
      // A rewrite is checked on the second token: ONNX Runtime's CPU kernel of
      // DecoderMaskedMultiHeadAttention misreads the first token's empty cache as a full one.
      if (this.rewriteCheck && step === 1) await this.checkRewrite(feeds, out);
      for (const p of pasts) cache.set(p.name, out[p.presentOutput]);
      layerIndices.forEach((l, k) => {
        const tap = this.taps[l];
        const row = attentionRows(tap.name, out[tap.probsTensor], 1, step + 1);
        if (step === 0) layers[k] = { name: tap.name, heads: row.heads, queries: n, keys: n, probs: new Float32Array(row.heads * n * n) };
        const layer = layers[k];
        for (let h = 0; h < row.heads; h++) layer.probs.set(row.probs.subarray(h * (step + 1), (h + 1) * (step + 1)), (h * n + step) * n);
        // an attention op's packed inputs hold one step's queries and keys, not the cache: no vectors
        if (withQK && tap.queryTensor && tap.keyTensor && !tap.packedVectors) {
          const q = headVectors(out[tap.queryTensor], 1, false);
          layer.query ??= { heads: q.heads, positions: n, dims: q.dims, data: new Float32Array(q.heads * n * q.dims) };
          for (let h = 0; h < q.heads; h++) layer.query.data.set(q.data.subarray(h * q.dims, (h + 1) * q.dims), (h * n + step) * q.dims);
          if (step === n - 1) layer.key = headVectors(out[tap.keyTensor], n, tap.keyOperandIsTransposed);
        }
      });
    }
    return { layers, lastOutputs: out };
  }
}


