// Transformer-XL's segment recurrence and the Compressive Transformer's memory, run through a
// decoder's key/value cache: one token per run, and at every segment boundary the cache cut to
// the last `memory` positions (those that leave are dropped, or mean-pooled into a compressed
// memory fed in front of the cache).
import { CacheTensor, concatAxis, meanPoolAxis, sliceAxis } from '../analysis/cacheTensors';
import type { RecurrenceStep } from '../analysis/recurrence';
import type { AttentionTap } from './attentionTap';
import { InputError } from './inputError';
import { InputPlan, PlannedInput, concreteDims } from './modelInputs';
import { OrtTensor, floatTensor, tensorFloats } from './ortSession';
import { attentionRows } from './tensorLayout';

/** Segment recurrence: segments of `segment` tokens, a memory of `memory` cached positions, and optionally a compressed memory. */
export interface RecurrenceOptions {
  text?: string;
  ids?: number[];
  segment: number;
  memory: number;
  /** pool the positions that leave the memory at `rate` into at most `slots` compressed positions */
  compression?: { rate: number; slots: number };
}

export interface RecurrenceRun {
  tokens: string[];
  inputIds: number[];
  layerIndices: number[];
  steps: RecurrenceStep[];
  /** the model's first output at the last position: the next-token scores of a language model */
  finalOutput: Float32Array;
  /** bytes one cached position takes over all past inputs */
  slotBytes: number;
}

/** What the recurrence runs: a decoder's inputs and taps, and one step of it (a token at a past length, its cache). */
export interface StepRunner {
  plan: InputPlan;
  taps: readonly AttentionTap[];
  /** the output whose last row the run reports (a language model's next-token scores) */
  firstOutput: string;
  step(id: number, past: number, cache: Map<string, OrtTensor>, fetch: string[]): Promise<Record<string, OrtTensor>>;
}

const FLOAT_BYTES = 4;

export async function segmentRecurrence(runner: StepRunner, ids: number[], opts: RecurrenceOptions): Promise<Omit<RecurrenceRun, 'tokens' | 'inputIds'>> {
  const pasts = runner.plan.inputs.filter((i): i is PlannedInput & { presentOutput: string } => i.role === 'past' && !!i.presentOutput);
  if (pasts.length === 0) {
    throw new InputError('segment recurrence needs a decoder exported with past key/value inputs and present outputs (such as gpt2_past.onnx); this model has none');
  }
  if (!(opts.segment >= 1) || !(opts.memory >= 0) || (opts.compression && !(opts.compression.rate >= 1 && opts.compression.slots >= 1))) {
    throw new InputError('segment must be at least 1, memory at least 0, compression rate and slots at least 1');
  }
  const axisOf = (p: PlannedInput): number => p.shape.findIndex((d, i) => typeof d !== 'number' && d !== runner.plan.batchSymbol && i > 0);
  const firstOutput = runner.firstOutput;
  const layerIndices = runner.taps.map((_, i) => i);
  const fetch = [...new Set([firstOutput, ...layerIndices.map((l) => runner.taps[l].probsTensor), ...pasts.map((p) => p.presentOutput)])];
  let cache = new Map<string, CacheTensor>();
  let compressed = new Map<string, CacheTensor>();
  let cachePositions: number[] = [];
  let compressedPositions: number[] = [];
  const steps: RecurrenceStep[] = [];
  let finalOutput = new Float32Array(0);
  for (let t = 0; t < ids.length; t++) {
    const segment = Math.floor(t / opts.segment);
    if (t > 0 && t % opts.segment === 0 && cachePositions.length > opts.memory) {
      const leaving = cachePositions.length - opts.memory;
      if (opts.compression) {
        const { rate, slots } = opts.compression;
        const next = new Map<string, CacheTensor>();
        for (const p of pasts) {
          const pooled = meanPoolAxis(sliceAxis(cache.get(p.name)!, axisOf(p), 0, leaving), axisOf(p), rate);
          const joined = compressed.has(p.name) ? concatAxis(compressed.get(p.name)!, pooled, axisOf(p)) : pooled;
          const len = joined.dims[axisOf(p)];
          next.set(p.name, len > slots ? sliceAxis(joined, axisOf(p), len - slots, len) : joined);
        }
        for (let g = 0; g < leaving; g += rate) {
          const group = cachePositions.slice(g, Math.min(leaving, g + rate));
          compressedPositions.push(group.reduce((a, b) => a + b, 0) / group.length);
        }
        compressedPositions = compressedPositions.slice(Math.max(0, compressedPositions.length - slots));
        compressed = next;
      }
      for (const p of pasts) cache.set(p.name, sliceAxis(cache.get(p.name)!, axisOf(p), leaving, cachePositions.length));
      cachePositions = cachePositions.slice(leaving);
    }
    const fed = new Map<string, OrtTensor>();
    for (const p of pasts) {
      const c = cache.get(p.name);
      const m = compressed.get(p.name);
      const whole = c && m ? concatAxis(m, c, axisOf(p)) : (c ?? m);
      if (whole) fed.set(p.name, floatTensor(whole.data, whole.dims));
    }
    const pastLength = compressedPositions.length + cachePositions.length;
    const out = await runner.step(ids[t], pastLength, fed, fetch);
    for (const p of pasts) {
      const present = out[p.presentOutput];
      const full: CacheTensor = { data: tensorFloats(present), dims: present.dims.map(Number) };
      cache.set(p.name, sliceAxis(full, axisOf(p), compressedPositions.length, full.dims[axisOf(p)]));
    }
    cachePositions.push(t);
    const keyPositions = Float64Array.from([...compressedPositions, ...cachePositions]);
    const rows = layerIndices.map((l) => attentionRows(runner.taps[l].name, out[runner.taps[l].probsTensor], 1, keyPositions.length));
    steps.push({
      position: t,
      segment,
      keyPositions,
      keyIsMemory: Uint8Array.from(keyPositions, (pos) => (pos < segment * opts.segment ? 1 : 0)),
      rows: rows.map((r) => r.probs),
      heads: rows.map((r) => r.heads),
    });
    const o = out[firstOutput];
    const last = o.dims[o.dims.length - 1];
    const values = tensorFloats(o);
    finalOutput = values.slice(values.length - Number(last));
  }
  const slotBytes = pasts.reduce((sum, p) => {
    const dims = concreteDims(p, runner.plan, 1, 1);
    return sum + dims.reduce((a, b) => a * b, 1) * FLOAT_BYTES;
  }, 0);
  return { layerIndices, steps, finalOutput, slotBytes };
}
