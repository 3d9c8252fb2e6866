// npm run bench: (1) the inline memory estimates (CodeLens and hover work) on a 2,000-line
// Python file and a large config.json; (2) bare inference against attention capture on a
// BERT-base-shaped model (12 layers, 12 heads, hidden 768, random weights generated here,
// never committed), on the CPU, with this process under the engine's allocator settings;
// (3) the same for fused attention (com.microsoft Attention rewritten into standard ops,
// GroupQueryAttention asked for its probabilities) and the rewrite's self-check; (4) the per-head
// statistics and head distances; (5) LSH and routing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineClient, engineEnv } from '../src/engine/engineClient';
import { randomBert, BERT_BASE_SHAPE } from '../src/model/builder/randomBert';
import { LoadedModel, captureBytes, capturePeakBytes } from '../src/model/capture';
import { binaryBytes } from '../src/analysis/units';
import { analysisPlan, analyzeCapture } from '../src/analysis/attentionAnalysis';
import { StatsPool } from '../src/engine/statsPool';
import { distanceJob, headDistanceWork, headDistances } from '../src/analysis/headDistance';
import { lshBuckets, lshPairs, unitRows } from '../src/analysis/lshBuckets';
import { routing, routingPairs } from '../src/analysis/routingClusters';
import { seededNormals } from '../src/analysis/seededRandom';
import { randomAttention, randomCapture } from '../src/analysis/syntheticAttention';
import { CPU_RUN } from '../src/model/executionProviders';
import { createSession, intTensor } from '../src/model/ortSession';
import { AttentionForm, FusedModelShape, fusedAttentionModel } from '../src/model/builder/fusedAttentionModels';
import { onnxModel, rewrittenModelBytes } from '../src/model/onnxGraph';
import { attentionSites, tapRewrite } from '../src/model/attentionTap';
import { checkedRewrite } from '../src/model/rewriteCheck';
import { memoryEstimate } from '../src/memory/attentionMemory';
import { ConfigScan, configSites, fragmentsAfter } from '../src/memory/configSites';
import { memoryLensTitle, memoryMarkdown } from '../src/memory/memoryReport';
import { attentionShape } from '../src/memory/modelDims';
import { modelProfile } from '../src/modelProfile';
import { median, medianMs } from './timing';

process.env.ORT_DISABLE_TELEMETRY = '1';
const ROOT = resolve(__dirname, '..');
const MODEL_DIR = join(ROOT, '.bench', 'bert-base-random');
const WARMUP = 2;
const REPEATS = 21;

/**
 * Two runs measured alternately, so that drift of a shared machine hits both alike: the median
 * time of each and the median of the ratios of the pairs (b over a).
 */
async function alternating(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<{ aMs: number; bMs: number; ratio: number }> {
  // the garbage of what ran before is collected now, not by background threads during the timed runs
  (globalThis as { gc?: () => void }).gc?.();
  for (let i = 0; i < WARMUP; i++) {
    await a();
    await b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    let t0 = performance.now();
    await a();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    await b();
    tb.push(performance.now() - t0);
  }
  return { aMs: median(ta), bMs: median(tb), ratio: median(tb.map((t, i) => t / ta[i])) };
}

/** A 2,000-line training script with model configs among ordinary code. */
function longPythonFile(): string {
  const lines = ['import torch', 'import torch.nn as nn', 'from transformers import BertConfig, GPT2Config', 'HIDDEN_SIZE = 768', 'NUM_HEADS = 12', ''];
  for (let i = 0; lines.length < 2000; i++) {
    lines.push(`def step_${i}(model, batch, lr=${(i % 7) * 0.001 + 0.0001}):`, `    out = model(batch['x'] * ${i} + ${i % 3})`, `    loss = (out - batch['y']).pow(2).mean()`, '    return loss', '');
    if (i % 50 === 0) lines.push(`cfg_${i} = BertConfig(hidden_size=HIDDEN_SIZE, num_attention_heads=NUM_HEADS, num_hidden_layers=${(i % 12) + 1}, max_position_embeddings=512)`);
    if (i % 80 === 0) lines.push(`attn_${i} = nn.MultiheadAttention(${64 * ((i % 8) + 1)}, 8, dropout=0.1)`);
  }
  return lines.join('\n');
}

/** A large config.json: an ImageNet-1k classifier's, with its 1,000-label maps (as vit-base-patch16-224 ships). */
function largeConfig(): string {
  const name = (i: number): string => `class ${i}, a label as long as ImageNet's`;
  const id2label = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [String(i), name(i)]));
  const label2id = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [name(i), i]));
  return JSON.stringify({ model_type: 'vit', hidden_size: 768, num_attention_heads: 12, num_hidden_layers: 12, id2label, label2id }, null, 2);
}

/** The lens and hover work on one scan: estimate each config, write its lens line and hover table. */
function estimateSites(scan: ConfigScan): void {
  const settings = { seq: 512, batch: 1, dtype: 'fp32' as const, mode: 'inference' as const };
  for (const site of scan.sites) {
    const shaped = attentionShape(site.dims, settings);
    if ('shape' in shaped) {
      const e = memoryEstimate(shaped.shape);
      memoryLensTitle(e);
      memoryMarkdown(e);
    }
  }
}

function medianOf(runs: number, work: (i: number) => void): number {
  for (let i = 0; i < 5; i++) work(i);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    work(i);
    times.push(performance.now() - t0);
  }
  return median(times);
}

function benchMemoryLens(): void {
  console.log('Inline estimates: parse, find configs, estimate dense and 8 methods, write lens and hover (median of 31 runs)');
  const py = longPythonFile();
  const pyScan = configSites(py, 'python');
  const openMs = medianOf(31, () => estimateSites(configSites(py, 'python')));
  // An edit: one digit of a config changes, and the tree of the previous version is reused.
  const at = py.indexOf('num_hidden_layers=', py.length >> 1) + 'num_hidden_layers='.length;
  const editMs = medianOf(31, (i) => {
    const edited = py.slice(0, at) + String(i % 9) + py.slice(at + 1);
    estimateSites(configSites(edited, 'python', fragmentsAfter(pyScan.tree!, [{ from: at, to: at + 1, insertedLength: 1 }])));
  });
  const hoverMs = medianOf(31, () => estimateSites({ sites: [pyScan.sites[1]], problems: [] }));
  console.log(`  Python, ${py.split('\n').length} lines, ${pyScan.sites.length} configs: on open ${openMs.toFixed(2)} ms, after an edit ${editMs.toFixed(2)} ms, a hover ${hoverMs.toFixed(2)} ms`);
  const json = largeConfig();
  const jsonMs = medianOf(31, () => estimateSites(configSites(json, 'json')));
  console.log(`  config.json, ${(json.length / 1024).toFixed(0)} KiB (1,000 labels): ${jsonMs.toFixed(2)} ms`);
}

async function benchHeadStats(): Promise<void> {
  console.log('Per-head statistics (targets, entropy, distance, spans, offset profile, labels), median of 5 runs');
  const pool = new StatsPool(join(ROOT, 'dist', 'statsWorker.js'));
  pool.warm();
  for (const [layers, heads, n] of [
    [12, 12, 512],
    [1, 12, 4096],
  ] as const) {
    const capture = randomCapture(Array.from({ length: layers }, () => randomAttention(`attention ${heads}x${n}`, heads, n)));
    const ms = medianOf(5, () => analyzeCapture(capture, { headDistance: false }));
    const bytes = layers * heads * n * n * 4;
    const rate = (t: number): string => `${(bytes / 1e9 / (t / 1000)).toFixed(2)} GB/s`;
    let line = `  ${layers * heads} heads at n = ${n}: one core ${ms.toFixed(0)} ms for ${binaryBytes(bytes)} of probabilities, ${rate(ms)}`;
    if (layers > 1) {
      const plan = analysisPlan(capture, { headDistance: false });
      const pooled: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now();
        await pool.layerStats(plan);
        if (i >= 2) pooled.push(performance.now() - t0);
      }
      line += `; the engine's ${pool.threads} threads ${median(pooled).toFixed(0)} ms, ${rate(median(pooled))}`;
    }
    console.log(line);
  }
  console.log("Head distances (Jensen-Shannon, every pair of 144 heads, bidirectional; target: at most 2 s at n = 512 on the engine's threads), median of 3 runs after one");
  for (const n of [128, 512]) {
    const layerList = Array.from({ length: 12 }, (_, i) => randomAttention(`distances 12x${n} ${i}`, 12, n));
    const work = headDistanceWork(144, n, n, false);
    const oneMs = await medianMs(3, () => headDistances(layerList, false));
    const pooledMs = await medianMs(3, () => pool.headDistances(distanceJob(layerList, false)));
    const target = n === 512 ? (pooledMs <= 2000 ? ', within the target' : ', OVER the target') : '';
    console.log(
      `  n = ${n}: one core ${oneMs.toFixed(0)} ms (${((oneMs * 1e6) / work).toFixed(2)} ns per pair of heads x row element); the engine's ${pool.threads} threads ${pooledMs.toFixed(0)} ms (${(oneMs / pooledMs).toFixed(2)}x)${target}`,
    );
  }
  pool.dispose();
}

/** LSH (4 rounds, both modes) and routing (k = sqrt n, 10 iterations) on random queries and keys, d = 64. */
function benchLshAndRouting(): void {
  console.log('Efficient-attention lab on random heads (d = 64): time per head');
  for (const [heads, n] of [
    [144, 512],
    [12, 4096],
  ] as const) {
    const dims = 64;
    const vectors = { heads: 1, positions: n, dims, data: seededNormals(n * dims, `lab ${n}`) };
    const rows = unitRows(vectors, 0);
    const chunk = 64;
    const buckets = Math.max(2, 2 * Math.round(n / chunk / 2));
    const sample = Math.min(heads, 12);
    const lshMs = medianOf(sample, () => {
      const b = lshBuckets(rows, n, dims, buckets, 4, 1);
      lshPairs(b, b, n, chunk, true);
      lshPairs(lshBuckets(rows, n, dims, buckets, 4, 2), b, n, chunk, false);
    });
    const routingMs = medianOf(Math.min(sample, 5), () => routingPairs(routing(rows, rows, n, dims, { clusters: Math.round(Math.sqrt(n)), iterations: 10, seed: 1 }), n));
    console.log(`  ${heads} heads at n = ${n}: LSH ${lshMs.toFixed(1)} ms/head, routing ${routingMs.toFixed(1)} ms/head; all heads ${((heads * (lshMs + routingMs)) / 1000).toFixed(1)} s`);
  }
}

/** Bare inference against the capture in this process and against the analyse command in the engine. */
async function benchCapture(): Promise<void> {
  const modelPath = join(MODEL_DIR, 'model.onnx');
  if (!existsSync(modelPath)) {
    const t0 = performance.now();
    mkdirSync(MODEL_DIR, { recursive: true });
    writeFileSync(modelPath, randomBert(BERT_BASE_SHAPE).model);
    console.log(`generated ${modelPath} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const bare = (await createSession(modelPath, CPU_RUN)).session;
  const engine = new EngineClient({ enginePath: join(ROOT, 'dist', 'engine.js'), timeoutMs: 600_000 });
  console.log(`BERT-base shape (L ${BERT_BASE_SHAPE.layers}, h ${BERT_BASE_SHAPE.heads}, hidden ${BERT_BASE_SHAPE.hidden}), CPU, median of ${REPEATS} alternating pairs after ${WARMUP} warm-up pairs (ratio: the median of the pairs' ratios)`);
  console.log('n\tbare ms\tcapture ms\tratio\tbare ms\tanalyze ms\tratio\tanalyze: capture + statistics + trip ms\tattention captured\tengine peak RSS');
  try {
    const sizes = [128, 512];
    const inputs = sizes.map((n) => {
      const ids = Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 20000));
      return { n, ids, feeds: { input_ids: intTensor('int64', ids, [1, n]), attention_mask: intTensor('int64', Array(n).fill(1), [1, n]) } };
    });
    // The analyse command's work, capture and every per-head statistic in the engine process,
    // is timed first: the in-process captures after it leave this process hundreds of MiB to free.
    const load = { model: modelPath, executionProvider: 'cpu' as const };
    const analyzed: (Awaited<ReturnType<typeof alternating>> & { split: string })[] = [];
    for (const { ids, feeds } of inputs) {
      const timings: { captureMs: number; statisticsMs: number; totalMs: number }[] = [];
      const analyze = async (): Promise<void> => {
        const t0 = performance.now();
        const r = await engine.analyze({ load, capture: { ids }, analysis: { headDistance: false }, returnAttention: false });
        timings.push({ ...r.timings, totalMs: performance.now() - t0 });
      };
      const times = await alternating(() => bare.run(feeds), analyze);
      // the timed runs' split, medians: the engine's capture and statistics, and the rest (the trip between the processes)
      const timed = timings.slice(-REPEATS);
      const ms = (f: (t: (typeof timed)[number]) => number): string => median(timed.map(f)).toFixed(0);
      analyzed.push({ ...times, split: `${ms((t) => t.captureMs)} + ${ms((t) => t.statisticsMs)} + ${ms((t) => t.totalMs - t.captureMs - t.statisticsMs)}` });
    }
    const { maxRssBytes, hugePageBytes } = await engine.processMemory();
    // loaded only now, so that this process holds one model while the engine is timed
    const tapped = await LoadedModel.load({ model: modelPath, executionProvider: 'cpu' });
    for (const [k, { n, ids, feeds }] of inputs.entries()) {
      const capture = await alternating(
        () => bare.run(feeds),
        () => tapped.capture({ ids }),
      );
      const analyze = analyzed[k];
      const captured = BERT_BASE_SHAPE.layers * BERT_BASE_SHAPE.heads * n * n * 4;
      console.log(
        `${n}\t${capture.aMs.toFixed(1)}\t${capture.bMs.toFixed(1)}\t${capture.ratio.toFixed(2)}x\t${analyze.aMs.toFixed(1)}\t${analyze.bMs.toFixed(1)}\t${analyze.ratio.toFixed(2)}x\t${analyze.split}\t${binaryBytes(captured)}\t${binaryBytes(maxRssBytes)}${hugePageBytes ? ` (${binaryBytes(hugePageBytes)} in huge pages)` : ''}`,
      );
    }
  } finally {
    engine.dispose();
  }
}

/**
 * The memory profiler's overhead: a sweep of 6 lengths on the BERT-base-shaped model, each
 * point's profiled run (ONNX Runtime's profiler on, in the engine) against the same bare run
 * (profiler off, median of 5 after a warm-up), summed; and the whole sweep's wall time (a
 * session, a warm-up and the trace per point) beside them.
 */
async function benchProfiler(): Promise<void> {
  const modelPath = join(MODEL_DIR, 'model.onnx');
  const lengths = [16, 32, 64, 128, 256, 512];
  const engine = new EngineClient({ enginePath: join(ROOT, 'dist', 'engine.js'), timeoutMs: 600_000 });
  const bare = (await createSession(modelPath, CPU_RUN)).session;
  try {
    const t0 = performance.now();
    const profile = await modelProfile(engine, { model: modelPath, ep: 'cpu', lengths });
    const sweepMs = performance.now() - t0;
    const bareMs: number[] = [];
    for (const n of lengths) {
      const ids = Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 20000));
      const feeds = { input_ids: intTensor('int64', ids, [1, n]), attention_mask: intTensor('int64', Array(n).fill(1), [1, n]) };
      bareMs.push(await medianMs(5, () => bare.run(feeds)));
    }
    console.log('\nmemory profiler, BERT-base shape, CPU: profiled run (profiler on, in the engine) against the bare run (off, median of 5)');
    console.log('n\tbare ms\tprofiled ms\tpeak\tattention\testimate');
    profile.points.forEach((p, i) => console.log(`${p.n}\t${bareMs[i].toFixed(1)}\t${p.wallMs.toFixed(1)}\t${binaryBytes(p.peakBytes)}\t${binaryBytes(p.attentionBytes)}\t${p.estimate ? binaryBytes(p.estimate.attentionBytes) : '-'}`));
    const on = profile.points.reduce((a, p) => a + p.wallMs, 0);
    const off = bareMs.slice(0, profile.points.length).reduce((a, b) => a + b, 0);
    console.log(`sum: bare ${off.toFixed(0)} ms, profiled ${on.toFixed(0)} ms: ${(on / off).toFixed(2)}x (at most 1.5x); the whole sweep ${(sweepMs / 1000).toFixed(1)} s (a session, a warm-up and the trace at each point)${profile.stopped ? `; ${profile.stopped}` : ''}`);
  } finally {
    engine.dispose();
    await bare.release();
  }
}

/** A fused model generated once into .bench/ (random weights, never committed). */
function benchModel(name: string, make: () => Uint8Array): string {
  const path = join(ROOT, '.bench', name, 'model.onnx');
  if (!existsSync(path)) {
    const t0 = performance.now();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, make());
    console.log(`generated ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return path;
}

/** Bare inference of a fused model against its capture, in this process, at n = 512; and the rewrite's self-check. */
async function benchFusedCapture(): Promise<void> {
  const n = 512;
  const cases: [string, AttentionForm, FusedModelShape][] = [
    ['fused com.microsoft Attention, BERT-base shape (L 12, h 12, d 64, feed-forward 3072)', 'Attention', { layers: 12, heads: 12, kvHeads: 12, headDim: 64, vocab: 30522, maxPositions: 512, causal: false, layerNorm: true, intermediate: 3072 }],
    ['GroupQueryAttention decoder (L 12, 12 query heads on 4 KV heads, d 64, feed-forward 3072)', 'GroupQueryAttention', { layers: 12, heads: 12, kvHeads: 4, headDim: 64, vocab: 32000, maxPositions: 4096, causal: true, layerNorm: true, intermediate: 3072 }],
  ];
  console.log(`Fused attention at n = ${n}, CPU, median of ${REPEATS} alternating pairs (ratio: the median of the pairs' ratios)`);
  console.log('model\tbare ms\tcapture ms\tratio\ttapped graph, model outputs only: ms\tratio');
  for (const [label, form, shape] of cases) {
    const path = benchModel(`fused-${form}`, () => fusedAttentionModel(shape, form, 'bench').model);
    const ids = Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % (shape.vocab - 1)));
    const feeds = { input_ids: intTensor('int64', ids, [1, n]), attention_mask: intTensor('int64', Array(n).fill(1), [1, n]) };
    const bare = (await createSession(path, CPU_RUN)).session;
    const tapped = await LoadedModel.load({ model: path, executionProvider: 'cpu' });
    await tapped.capture({ ids }); // the first capture is the one checked against the original graph
    const times = await alternating(
      () => bare.run(feeds),
      () => tapped.capture({ ids }),
    );
    // the tapped graph asked for the model's outputs alone: what the rewrite costs, apart from
    // handing over the probabilities
    const model = onnxModel(new Uint8Array(readFileSync(path)));
    const { rewrite } = tapRewrite(model, attentionSites(model).taps);
    const graphOnly = (await createSession(rewrittenModelBytes(model, { ...rewrite, extraOutputs: [] }), CPU_RUN)).session;
    const rewritten = await alternating(
      () => bare.run(feeds),
      () => graphOnly.run(feeds),
    );
    await graphOnly.release();
    console.log(`${label}\t${times.aMs.toFixed(1)}\t${times.bMs.toFixed(1)}\t${times.ratio.toFixed(2)}x\t${rewritten.bMs.toFixed(1)}\t${rewritten.ratio.toFixed(2)}x`);
    if (form === 'Attention') {
      // the self-check: the original graph's session, one run of it, and the comparison of outputs
      const tappedOutputs = await (await createSession(rewrittenModelBytes(model, rewrite), CPU_RUN)).session.run(feeds);
      const t0 = performance.now();
      const original = (await createSession(path, CPU_RUN)).session;
      const t1 = performance.now();
      await checkedRewrite(original, tappedOutputs, feeds, model.outputs.map((o) => o.name), ['all']);
      const t2 = performance.now();
      console.log(`  the rewrite's self-check at n = ${n}: the original graph's session ${(t1 - t0).toFixed(0)} ms, its run and the comparison ${(t2 - t1).toFixed(0)} ms (twice: at load and at the first capture)`);
      await original.release();
    }
    await tapped.release();
    await bare.release();
  }
}

/**
 * The memory check's prediction of the engine's peak (its memory after loading the model, and
 * what capturePeakBytes adds for the capture) against the peak measured, each n in a fresh engine,
 * on a dynamic-length encoder small enough for n = 8,000 to stay within a few GiB.
 */
async function benchCapturePeak(): Promise<void> {
  const shape = { layers: 4, heads: 2, headDim: 32, hidden: 128, intermediate: 512, vocab: 1000, maxPositions: 8192, layerNorm: true };
  const path = benchModel('capture-peak', () => randomBert(shape).model);
  console.log(`\nthe memory check: the engine's predicted peak against its measured peak, random encoder (L ${shape.layers}, h ${shape.heads}, hidden ${shape.hidden}), every layer captured, CPU`);
  console.log('n\tattention captured\tpredicted peak\tmeasured peak\tmeasured / predicted');
  for (const n of [2000, 4000, 8000]) {
    const engine = new EngineClient({ enginePath: join(ROOT, 'dist', 'engine.js'), timeoutMs: 600_000 });
    try {
      const load = { model: path, executionProvider: 'cpu' as const };
      const { headsPerLayer } = await engine.load(load);
      const loadedBytes = (await engine.processMemory()).maxRssBytes;
      const ids = Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % (shape.vocab - 1)));
      await engine.analyze({ load, capture: { ids }, analysis: { headDistance: false }, returnAttention: false });
      const measured = (await engine.processMemory()).maxRssBytes;
      const layers = headsPerLayer.map((_, l) => l);
      const predicted = loadedBytes + capturePeakBytes(headsPerLayer, n, layers);
      console.log(`${n}\t${binaryBytes(captureBytes(headsPerLayer, n, n, layers))}\t${binaryBytes(predicted)}\t${binaryBytes(measured)}\t${(measured / predicted).toFixed(2)}x`);
    } finally {
      engine.dispose();
    }
  }
}

async function main(): Promise<void> {
  // This process runs under the engine's allocator settings (2 MiB pages, the heap kept), as
  // the engine does: bare inference on the same footing, so that the ratios are the cost of the
  // capture and the statistics, not of the allocator. glibc reads them at start: run again
  // (with gc exposed, for alternating()).
  if (!process.env.ATTENTION_LENS_BENCH) {
    const again = spawnSync(process.execPath, ['--expose-gc', __filename], { stdio: 'inherit', env: { ...engineEnv(process.env), ATTENTION_LENS_BENCH: '1' } });
    process.exit(again.status ?? 1);
  }
  benchMemoryLens();
  // Inference first, while this process has nothing else to free: the statistics and the lab
  // below leave it a GiB of arrays to collect, work that would run beside the timed runs.
  await benchCapture();
  await benchProfiler();
  await benchFusedCapture();
  await benchCapturePeak();
  await benchHeadStats();
  benchLshAndRouting();
}

void main();
