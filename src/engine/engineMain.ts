// The engine child process: runs ONNX Runtime away from the extension host, so that a crash
// or an out-of-memory in a model takes down only this process.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LoadOptions, LoadedModel, captureBudgetBytes } from '../model/capture';
import { InputError } from '../model/inputError';
import { engineMemoryLimitBytes, startMemoryWatchdog } from './memoryWatchdog';
import { modelFiles } from '../model/modelFiles';
import { ModelFormatError } from '../model/onnxGraph';
import { analysisOf, analysisPlan, headDistanceWanted } from '../analysis/attentionAnalysis';
import { efficientAttentionLab, headBuckets } from '../analysis/efficientAttentionLab';
import { recurrenceHeads, softmaxKlNats } from '../analysis/recurrence';
import { EngineMethod, EngineMethods, EngineRequest, EngineResponse, RecurrenceReport, analysisFromWire, wireAnalysis } from './engineProtocol';
import { writeReport } from '../reportFile';
import { StatsPool } from './statsPool';
import { CaptureGoneError, CaptureStore } from './captureStore';
import { askedHead, headTile, headsWindow, tokenRows } from '../analysis/captureViews';
import { profiledPoint } from './profiledPoint';
import { profileTarget } from '../model/profiledRun';

// Sessions are kept per model, provider choice and the state of the files beside the model
// (external weights, tokenizer, config: a tokenizer added or a config edited after a first run
// takes effect on the next); the least recently used goes when more are open than this.
const MAX_OPEN_MODELS = 3;
const models = new Map<string, Promise<LoadedModel>>();

// What a model reads beside it: its tokenizer and configs by name, and every other file but the
// texts, documents and reports a user keeps there (external weights may have any name).
const READ_BESIDE = new Set(['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'config.json', 'genai_config.json']);
const NOT_READ = /\.(txt|md|json|jsonl|html?|csv|tsv|png|jpe?g|svg|py|ipynb|ya?ml|log)$/i;

/** Name, size and modification time of the files the model reads in its folders, and of a tokenizer named apart. */
function filesState(folders: string[], tokenizer: string | undefined): string {
  const state: string[] = [];
  for (const folder of folders) {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isFile() || (NOT_READ.test(entry.name) && !READ_BESIDE.has(entry.name))) continue;
      const st = statSync(join(folder, entry.name));
      state.push(`${folder}/${entry.name}:${st.size}:${st.mtimeMs}`);
    }
  }
  if (tokenizer) {
    // a tokenizer that cannot be read (a loop of links, no permission) is named by its load
    let st;
    try {
      st = statSync(tokenizer, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    state.push(`${tokenizer}:${st?.size}:${st?.mtimeMs}`);
  }
  return state.sort().join('\0');
}

function loaded(opts: LoadOptions): Promise<LoadedModel> {
  const files = modelFiles(opts.model);
  // an encoder named alone and its folder (the encoder with its decoder) are two models
  const model = `${files.modelPath}\0${files.decoderPath ?? ''}\0${opts.executionProvider}\0${opts.tokenizer ?? ''}\0`;
  const key = `${model}${filesState(files.folders, opts.tokenizer)}`;
  // the same model loaded before its files changed is not used again: its memory goes now
  for (const old of [...models.keys()].filter((k) => k.startsWith(model) && k !== key)) {
    void models.get(old)?.then((stale) => stale.release(), () => undefined);
    models.delete(old);
  }
  let m = models.get(key);
  if (m) models.delete(key);
  else {
    m = LoadedModel.load(opts);
    m.catch(() => models.delete(key));
  }
  models.set(key, m);
  for (const old of [...models.keys()].slice(0, Math.max(0, models.size - MAX_OPEN_MODELS))) {
    void models.get(old)?.then((loaded) => loaded.release(), () => undefined);
    models.delete(old);
  }
  return m;
}

// Captures kept for the views, answered by id: the editor never holds their probabilities.
const captures = new CaptureStore();

// The statistics of a capture's layers run on every core; the workers load while the first model does.
const statsPool = new StatsPool(join(__dirname, 'statsWorker.js'));
statsPool.warm();

startMemoryWatchdog(join(__dirname, 'memoryWatchdogWorker.js'), engineMemoryLimitBytes());


/** Anonymous memory this process holds in transparent huge pages, where Linux tells. */
function hugePageBytes(): number | null {
  try {
    const kib = /^AnonHugePages:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
    return kib ? Number(kib[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Each engine method's answer, typed from EngineMethods: a method without a handler does not compile. */
const handlers: { [M in EngineMethod]: (p: EngineMethods[M]['params']) => Promise<EngineMethods[M]['result']> | EngineMethods[M]['result'] } = {
  load: async (p) => (await loaded(p)).info,
  capture: async (p) => {
    const model = await loaded(p.load);
    return model.capture({ ...p.capture, memoryBudgetBytes: p.capture.memoryBudgetBytes ?? captureBudgetBytes(), sendsProbabilities: true });
  },
  analyze: async (p) => {
    const model = await loaded(p.load);
    const asked = p.lab?.head;
    const heads = asked && model.info.headsPerLayer[asked.layer];
    if (asked && !(heads && asked.head < heads)) {
      const { layers, headsPerLayer } = model.info;
      throw new InputError(`there is no head ${asked.layer}:${asked.head}: the model has ${layers} attention layers (0-${layers - 1})${heads ? ` and layer ${asked.layer} has ${heads} heads (0-${heads - 1})` : ` of ${Math.max(...headsPerLayer)} heads at most`}`);
    }
    const started = performance.now();
    const capture = await model.capture({
      ...p.capture,
      includeQueryKey: p.capture.includeQueryKey || p.lab !== undefined,
      memoryBudgetBytes: p.capture.memoryBudgetBytes ?? captureBudgetBytes(),
      sendsProbabilities: p.returnAttention,
    });
    const captured = performance.now();
    // the head distances' time is that of this engine's threads
    const analysisOptions = { ...p.analysis, threads: statsPool.threads };
    const plan = analysisPlan(capture, analysisOptions);
    const stats = await statsPool.layerStats(plan);
    const analysis = analysisOf(plan, stats, analysisOptions, headDistanceWanted(plan, analysisOptions) ? await statsPool.headMap(plan.layers, plan.causal) : undefined);
    const timings = { captureMs: captured - started, statisticsMs: performance.now() - captured };
    const lab = p.lab ? efficientAttentionLab(capture, p.lab) : undefined;
    const unrotated = capture.layerIndices.filter((l) => model.info.attention[l]?.unrotatedVectors);
    if (lab && unrotated.length) {
      lab.notes.push(`layers ${unrotated.join(', ')} rotate queries and keys inside their attention op (do_rotary): LSH and routing used them before the rotation`);
    }
    const captureId = p.keep ? captures.put({ capture, causal: analysis.causal, lab: p.lab }, p.keep.budgetBytes) : undefined;
    const sent = p.returnAttention ? capture : { ...capture, layers: capture.layers.map((l) => ({ ...l, probs: new Float32Array(0), query: undefined, key: undefined })) };
    return { capture: sent, analysis: wireAnalysis(analysis), lab, timings, ...(captureId ? { captureId } : {}), modelPath: model.info.path };
  },
  head: (p) => {
    const head = askedHead(captures.get(p.capture).capture, p.layer, p.head, !!p.words);
    if (!head) throw new InputError(`no head ${p.head} in layer ${p.layer}`);
    return head;
  },
  tile: (p) => {
    const tile = headTile(captures.get(p.capture).capture, p.layer, p.head, p.q0, p.q1, p.k0, p.k1, p.maxCells);
    if (!tile) throw new InputError(`no head ${p.head} in layer ${p.layer}`);
    return tile;
  },
  headMap: (p) => {
    const { capture, causal } = captures.get(p.capture);
    return statsPool.headMap(capture.layers, causal);
  },
  window: (p) => ({ tiles: headsWindow(captures.get(p.capture).capture, p.q0, p.q1, p.k0, p.k1, p.maxCells) }),
  tokenRow: (p) => tokenRows(captures.get(p.capture).capture, p.token, p.side, p.text),
  buckets: (p) => {
    const { capture, lab, causal } = captures.get(p.capture);
    const l = capture.layers[p.layer];
    if (!l || p.head >= l.heads) throw new InputError(`no head ${p.head} in layer ${p.layer}`);
    if (l.part && l.part !== 'encoder') throw new InputError(`layer ${p.layer} is the decoder's ${l.part === 'cross' ? 'cross-attention' : 'self-attention'}: LSH buckets and routing clusters are computed on the encoder's self-attention`);
    const buckets = headBuckets(capture, p.layer, p.head, lab, causal);
    if (!buckets) throw new InputError('this capture holds no queries and keys: run the lab (Run the lab in the Methods tab) to see LSH buckets and routing clusters');
    return buckets;
  },
  release: (p) => {
    captures.release(p.capture);
    return null;
  },
  // the report holds the probabilities, which stay in this process: written here, as the CLI writes it
  report: (p) => {
    writeReport(p.path, p.modelPath, captures.get(p.capture).capture, analysisFromWire(p.analysis), p.lab, p.files);
    return null;
  },
  recurrence: async (p) => {
    const model = await loaded(p.load);
    const run = await model.recurrence(p.run);
    const report: RecurrenceReport = {
      tokens: run.tokens,
      inputIds: run.inputIds,
      recurrence: { segment: p.run.segment, memory: p.run.memory, heads: recurrenceHeads(run.steps, run.layerIndices) },
    };
    const c = p.run.compression;
    if (c) {
      // The uncompressed run keeps every position the compressed memory stands for.
      const full = await model.recurrence({ ...p.run, compression: undefined, memory: p.run.memory + c.rate * c.slots });
      report.compressive = {
        rate: c.rate,
        compressedMemory: c.slots,
        memory: p.run.memory,
        klNats: softmaxKlNats(full.finalOutput, run.finalOutput),
        bytesSaved: (c.rate - 1) * c.slots * run.slotBytes,
      };
    }
    return report;
  },
  profileTarget: (p) => profileTarget(p),
  profile: (p) => profiledPoint(p.load, p.input),
  processMemory: () => ({ maxRssBytes: process.resourceUsage().maxRSS * 1024, hugePageBytes: hugePageBytes() }),
};

async function handle<M extends EngineMethod>(req: EngineRequest<M>): Promise<EngineMethods[M]['result']> {
  const handler = handlers[req.method];
  if (!handler) throw new Error(`unknown engine method ${String(req.method)}`);
  return handler(req.params);
}

function reply(msg: EngineResponse): void {
  process.send?.(msg);
}

process.on('message', (req: EngineRequest) => {
  handle(req).then(
    (result) => reply({ id: req.id, ok: true, result }),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      const input = err instanceof InputError || err instanceof ModelFormatError;
      reply({ id: req.id, ok: false, kind: err instanceof CaptureGoneError ? 'gone' : input ? 'input' : 'internal', message: err.message });
    },
  );
});
process.on('disconnect', () => process.exit(0));
