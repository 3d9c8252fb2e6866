// The per-head statistics of a capture shared out between the engine's thread and worker threads,
// a layer at a time, and its head distances, a block of queries at a time. A layer's
// probabilities travel to a worker and back by transfer (ONNX Runtime gives each output its own
// buffer), so nothing is copied; a block of queries of all heads is copied once, into a buffer
// that travels there and back and serves the next block.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LayerAttention } from '../analysis/attentionCapture';
import { AnalysisPlan, LayerHeadStats, LayerPlan, layerHeadStats } from '../analysis/attentionAnalysis';
import { DistanceJob, HeadMap, distanceJob, groupedHeadMap, headDistanceWork, headGroups, jobBlockDivergences, pairMatrix } from '../analysis/headDistance';

export interface StatsRequest {
  kind: 'stats';
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

/** A block of queries of a head-distance job: [heads][rows][keys] probabilities of queries q0.. */
export interface DistanceRequest {
  kind: 'distances';
  id: number;
  block: Float32Array;
  heads: number;
  q0: number;
  rows: number;
  keys: number;
  causal: boolean;
}

export interface DistanceReply {
  id: number;
  block: Float32Array;
  /** every pair's divergence over the block (blockDivergences) */
  sums?: Float64Array;
  error?: string;
}

// Below this many probabilities the statistics take a few milliseconds: a worker's round trip is not worth it.
const MIN_PARALLEL_FLOATS = 1 << 20;

// Below this much work (headDistanceWork) the head distances take a few tens of milliseconds.
const MIN_PARALLEL_DISTANCE_WORK = 2e7;

// Layers (or blocks of queries) a worker holds at once: one to work on, one waiting.
const WORKER_QUEUE = 2;

// Models have a dozen layers or a few dozen; more threads than this mostly wait.
const MAX_THREADS = 8;

/** The threads a pool runs on by default: the engine's and a worker per further core. */
function poolThreads(): number {
  return Math.min(MAX_THREADS, availableParallelism());
}

interface Pending {
  /** what a dead worker takes with it, for the message */
  lost: string;
  settle: (reply: StatsReply & DistanceReply) => void;
  reject: (e: Error) => void;
}

/** A worker and the work it holds; a worker that dies fails that work and is replaced on the next use. */
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
    worker.on('message', (r: StatsReply & DistanceReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.settle(r);
    });
    const fail = (why: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`a statistics worker thread ${why}; ${p.lost} with it`));
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
      const settle = (r: StatsReply): void => {
        layer.probs = r.probs;
        if (r.stats) resolve(r.stats);
        else reject(new Error(`the statistics of layer '${layer.name}' failed in a worker thread: ${r.error}`));
      };
      this.pending.set(req.id, { lost: `layer '${layer.name}' was lost`, settle, reject });
      worker.postMessage(req, [req.layer.probs.buffer as ArrayBuffer]);
    });
  }

  /** The block's buffer travels there and back, with the sums. */
  distances(req: DistanceRequest): Promise<{ block: Float32Array; sums: Float64Array }> {
    const worker = this.start();
    const queries = `queries ${req.q0}-${req.q0 + req.rows - 1}`;
    return new Promise((resolve, reject) => {
      const settle = (r: DistanceReply): void => {
        if (r.sums) resolve({ block: r.block, sums: r.sums });
        else reject(new Error(`the head distances of ${queries} failed in a worker thread: ${r.error}`));
      };
      this.pending.set(req.id, { lost: `the head distances of ${queries} were lost`, settle, reject });
      worker.postMessage(req, [req.block.buffer as ArrayBuffer]);
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
  constructor(script: string, threads = poolThreads()) {
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
        const done = w.stats(layers[i], { kind: 'stats', id: this.nextId++, layer: travelling(layers[i]), layerIndex: plan.layerIndices[i], plan: plan.layerPlans[i] }).then((s) => {
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

  /** The head distances of a capture's layers and their embedding (headMap), each group's on every thread. */
  async headMap(layers: readonly LayerAttention[], causal: boolean): Promise<HeadMap> {
    const groups = headGroups(layers, causal);
    const within: Float64Array[] = [];
    for (const g of groups) within.push(await this.headDistances(distanceJob(g.layers.map((i) => layers[i]), g.causal)));
    return groupedHeadMap(layers, groups, within);
  }

  /**
   * A job's distance matrix, the numbers headDistances gives. The workers and this thread take
   * blocks in order, and the blocks' sums are added in order, each as soon as those before it are.
   */
  async headDistances(job: DistanceJob): Promise<Float64Array> {
    const count = job.heads.length;
    const sums = new Float64Array((count * (count - 1)) / 2);
    const blocks = job.blocks.length;
    const done: (Float64Array | undefined)[] = new Array(blocks);
    let added = 0;
    const finished = (k: number, block: Float64Array): void => {
      done[k] = block;
      for (; added < blocks && done[added]; added++) {
        const d = done[added]!;
        for (let p = 0; p < sums.length; p++) sums[p] += d[p];
        done[added] = undefined;
      }
    };
    let next = 0;
    const work = headDistanceWork(count, job.queries, job.keys, job.causal);
    if (this.workers.length && work >= MIN_PARALLEL_DISTANCE_WORK && blocks >= 2) {
      const spare: ArrayBuffer[] = [];
      const inFlight: Promise<void>[] = [];
      const send = (w: StatsWorker): void => {
        // a second block waits in a worker only while there are blocks enough for every thread
        while (next < blocks && (w.load === 0 || (w.load < WORKER_QUEUE && blocks - next >= this.threads))) {
          const k = next++;
          const { q0, rows } = job.blocks[k];
          const floats = count * rows * job.keys;
          const buffer = spare.pop() ?? new ArrayBuffer(4 * count * job.blocks[0].rows * job.keys);
          const block = new Float32Array(buffer, 0, floats);
          job.heads.forEach((h, i) => block.set(h.subarray(q0 * job.keys, (q0 + rows) * job.keys), i * rows * job.keys));
          const reply = w.distances({ kind: 'distances', id: this.nextId++, block, heads: count, q0, rows, keys: job.keys, causal: job.causal }).then((r) => {
            spare.push(r.block.buffer as ArrayBuffer);
            finished(k, r.sums);
            send(w);
          });
          // handled here as well: a failure may come while this thread still works, before Promise.all listens
          reply.catch(() => undefined);
          inFlight.push(reply);
        }
      };
      for (const w of this.workers) send(w);
      while (next < blocks) {
        const k = next++;
        finished(k, jobBlockDivergences(job, k));
        // lets the workers' replies in, so that they are sent the next blocks before this thread takes one
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await Promise.all(inFlight);
    }
    for (; next < blocks; next++) finished(next, jobBlockDivergences(job, next));
    return pairMatrix(sums, count);
  }

  dispose(): void {
    for (const w of this.workers) w.terminate();
  }
}
