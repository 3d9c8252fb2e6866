// The per-head statistics of a capture shared out between the engine's thread and worker threads,
// a layer at a time. A layer's probabilities travel to a worker and back by transfer (ONNX
// Runtime gives each output its own buffer), so nothing is copied.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LayerAttention } from '../analysis/attentionCapture';
import { AnalysisPlan, LayerHeadStats, LayerPlan, layerHeadStats } from '../analysis/attentionAnalysis';

export interface StatsRequest {
  id: number;
  layer: LayerAttention;
  layerIndex: number;
  plan: LayerPlan;
}

export interface StatsReply {
  id: number;
  probs: Float32Array;
  stats?: LayerHeadStats;
  error?: string;
}

// Below this many probabilities the statistics take a few milliseconds: a worker's round trip is not worth it.
const MIN_PARALLEL_FLOATS = 1 << 20;

// Layers a worker holds at once: one to work on, one waiting.
const WORKER_QUEUE = 2;

// Models have a dozen layers or a few dozen; more threads than this mostly wait.
const MAX_THREADS = 8;

interface Pending {
  layer: LayerAttention;
  resolve: (s: LayerHeadStats) => void;
  reject: (e: Error) => void;
}

/** A worker and the layers it holds; a worker that dies fails them and is replaced on the next use. */
class StatsWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly script: string) {}

  /** layers sent and not yet back */
  get load(): number {
    return this.pending.size;
  }

  start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script);
    worker.on('message', (r: StatsReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.layer.probs = r.probs;
      if (r.stats) p.resolve(r.stats);
      else p.reject(new Error(`the statistics of layer '${p.layer.name}' failed in a worker thread: ${r.error}`));
    });
    const fail = (why: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`a statistics worker thread ${why}; layer '${p.layer.name}' was lost with it`));
      this.pending.clear();
    };
    worker.on('error', (e) => fail(`failed (${e.message})`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  /** `layer` is left without probabilities until they come back with its statistics. */
  stats(layer: LayerAttention, req: StatsRequest): Promise<LayerHeadStats> {
    const worker = this.start();
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { layer, resolve, reject });
      worker.postMessage(req, [req.layer.probs.buffer as ArrayBuffer]);
    });
  }

  terminate(): void {
    void this.worker?.terminate();
  }
}

/** What a worker needs of a layer: not its query and key vectors, which would be copied. */
const travelling = ({ name, heads, queries, keys, probs }: LayerAttention): LayerAttention => ({ name, heads, queries, keys, probs });

/** A layer can travel by transfer when it alone views the whole of its buffer. */
function transferable(layers: readonly LayerAttention[]): boolean[] {
  const users = new Map<ArrayBufferLike, number>();
  for (const l of layers) users.set(l.probs.buffer, (users.get(l.probs.buffer) ?? 0) + 1);
  return layers.map(
    (l) => !(l.probs.buffer instanceof SharedArrayBuffer) && users.get(l.probs.buffer) === 1 && l.probs.byteOffset === 0 && l.probs.byteLength === l.probs.buffer.byteLength,
  );
}

export class StatsPool {
  private readonly workers: StatsWorker[];
  private nextId = 0;

  /** `script`: the bundled worker (dist/statsWorker.js); without it, or on one core, everything runs on this thread. */
  constructor(script: string, threads = Math.min(MAX_THREADS, availableParallelism())) {
    this.workers = existsSync(script) ? Array.from({ length: Math.max(0, threads - 1) }, () => new StatsWorker(script)) : [];
  }

  /** Starts the workers ahead of the first analysis, so that it does not wait for them to load. */
  warm(): void {
    for (const w of this.workers) w.start();
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Every layer's statistics, in order. The workers take layers from the front, two at a time
   * so that none waits for this thread to hand it the next one; this thread takes them from the
   * back, and the layers that cannot travel. A thread that runs slow (a busy machine) is made
   * up for by the others.
   */
  async layerStats(plan: AnalysisPlan): Promise<LayerHeadStats[]> {
    const { layers } = plan;
    const floats = layers.reduce((s, l) => s + l.probs.length, 0);
    const canTravel = transferable(layers);
    const local = (i: number): LayerHeadStats => layerHeadStats(layers[i], plan.layerIndices[i], plan.layerPlans[i]);
    const queue = layers.flatMap((_, i) => (canTravel[i] ? [i] : []));
    if (this.workers.length === 0 || floats < MIN_PARALLEL_FLOATS || queue.length < 2) return layers.map((_, i) => local(i));
    const results: (LayerHeadStats | Promise<LayerHeadStats>)[] = new Array(layers.length);
    const feed = (w: StatsWorker): void => {
      // a second layer waits in a worker only while there are layers enough for every thread
      while (queue.length && (w.load === 0 || (w.load < WORKER_QUEUE && queue.length >= this.threads))) {
        const i = queue.shift()!;
        const done = w.stats(layers[i], { id: this.nextId++, layer: travelling(layers[i]), layerIndex: plan.layerIndices[i], plan: plan.layerPlans[i] }).then((s) => {
          feed(w);
          return s;
        });
        // handled here as well: a failure may come while this thread still works, before Promise.all listens
        done.catch(() => undefined);
        results[i] = done;
      }
    };
    for (const w of this.workers.slice(0, queue.length - 1)) feed(w);
    layers.forEach((_, i) => {
      if (!canTravel[i]) results[i] = local(i);
    });
    while (queue.length) {
      const i = queue.pop()!;
      results[i] = local(i);
      // lets the workers' replies in, so that they are fed before this thread takes the next layer
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return Promise.all(results);
  }

  dispose(): void {
    for (const w of this.workers) w.terminate();
  }
}
