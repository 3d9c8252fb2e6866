// ONNX Runtime's profile of one run (a Chrome-trace array) read into operators in execution
// order, with the allocator's figures at each, kept apart by provider. Pure: the engine reads the file.

/** One operator of a profiled run: its time, its output and the allocator's state after it. */
export interface TraceOperator {
  node: string;
  op: string;
  provider: string;
  durationMs: number;
  outputBytes: number;
  /** bytes the provider's allocator holds in use after the node, and its peak so far */
  inUseBytes: number;
  peakBytes: number;
  arenaBytes: number;
  inputShapes: string;
  outputShapes: string;
  /** the node is part of an attention layer (scores, their scaling and mask, softmax, probabilities x V, or a fused op) */
  attention: boolean;
  /** what the kernel allocated inside itself and freed before it ended (ONNX Runtime's node memory statistics), where they were written */
  scratchBytes?: number;
}

/** An allocator's figures over one run: in use before the first node (weights and inputs), its peak, the arena it held. */
export interface ProviderMemory {
  provider: string;
  startBytes: number;
  peakBytes: number;
  arenaBytes: number;
}

export interface TracedRun {
  /** the run's own time as ONNX Runtime measured it */
  runMs: number;
  operators: TraceOperator[];
  providers: ProviderMemory[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

const KERNEL_SUFFIX = '_kernel_time';

const bytesArg = (args: Record<string, unknown>, key: string): number => {
  const v = Number(args[key] ?? 0);
  return Number.isFinite(v) ? v : 0;
};

/** "float[1,4,64,64] int64[1,64]" from the trace's [{ float: [1, 4, 64, 64] }, ...] */
function shapesText(v: unknown): string {
  if (!Array.isArray(v)) return '';
  return v
    .map((t) => Object.entries(t as Record<string, unknown>).map(([type, dims]) => `${type}[${Array.isArray(dims) ? dims.join(',') : ''}]`).join(' '))
    .join(' ');
}

/** The node as the graph names it: ORT appends _kernel_time to every node's event. */
export const traceNodeName = (eventName: string): string => (eventName.endsWith(KERNEL_SUFFIX) ? eventName.slice(0, -KERNEL_SUFFIX.length) : eventName);

/**
 * Each node's scratch from ONNX Runtime's node memory statistics (the CSV that
 * session.collect_node_memory_stats_to_file writes: name, input_sizes, initializers_sizes,
 * total_dynamic_sizes, total_temp_allocations), keyed by the node's name: the file appends a hash
 * of the node to it ("GQA_0_2379168813677912260").
 */
export function nodeScratchBytes(csv: string): Map<string, number> {
  const scratch = new Map<string, number>();
  for (const line of csv.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const cells = line.split(',');
    const temp = Number(cells.at(-1));
    // a name holding commas keeps them: only the four figures are split off its end
    const name = cells.slice(0, -4).join(',').replace(/_\d+$/, '');
    if (cells.length >= 5 && Number.isFinite(temp)) scratch.set(name, temp);
  }
  return scratch;
}

/**
 * Whether a node of the optimised graph belongs to attention: it is one of the graph's attention
 * nodes, or a fusion of one (ONNX Runtime names a fused node after the first it replaced:
 * "/layers.0/attn/MatMul/MatMulScaleFusion/"), or a fused attention op.
 */
export function attentionMatcher(attentionNodes: readonly string[], fusedOps: ReadonlySet<string>): (node: string, op: string) => boolean {
  const names = new Set(attentionNodes);
  // a fusion of attention node a is named `${a}/...`: each of the node's prefixes before a '/' is looked up
  const fusedFromAttention = (node: string): boolean => {
    for (let i = node.indexOf('/', 1); i > 0; i = node.indexOf('/', i + 1)) if (names.has(node.slice(0, i))) return true;
    return false;
  };
  return (node, op) => fusedOps.has(op) || names.has(node) || fusedFromAttention(node);
}

/**
 * The last run in a trace (a profile holds the warm-up run before it): its operators in execution
 * order, and each provider's memory. `isAttention` marks attention's operators.
 */
export function tracedRun(trace: unknown, isAttention: (node: string, op: string) => boolean, scratch: ReadonlyMap<string, number> = new Map()): TracedRun {
  if (!Array.isArray(trace)) throw new Error('the profile is not a trace array');
  const events = trace as TraceEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number');
  const last = runs.at(-1);
  if (!last) throw new Error('the profile holds no run');
  const from = last.ts!;
  const to = from + (last.dur ?? Infinity);
  const nodes = events
    .filter((e) => e.cat === 'Node' && e.name?.endsWith(KERNEL_SUFFIX) && typeof e.ts === 'number' && e.ts >= from && e.ts <= to && e.args)
    .sort((a, b) => a.ts! - b.ts!);
  const operators: TraceOperator[] = nodes.map((e) => {
    const a = e.args!;
    const node = traceNodeName(e.name!);
    const op = String(a.op_name ?? '');
    return {
      node,
      op,
      provider: String(a.provider ?? ''),
      durationMs: (e.dur ?? 0) / 1000,
      outputBytes: bytesArg(a, 'output_size'),
      inUseBytes: bytesArg(a, 'mem_bytes_in_use'),
      peakBytes: bytesArg(a, 'mem_in_use_peak'),
      arenaBytes: bytesArg(a, 'mem_arena_held'),
      inputShapes: shapesText(a.input_type_shape),
      outputShapes: shapesText(a.output_type_shape),
      attention: isAttention(node, op),
      ...(scratch.has(node) ? { scratchBytes: scratch.get(node) } : {}),
    };
  });
  const providers = new Map<string, ProviderMemory>();
  for (const [i, e] of nodes.entries()) {
    const o = operators[i];
    const seen = providers.get(o.provider);
    // before the first node: what it held, less what that node added
    const start = o.inUseBytes - bytesArg(e.args!, 'mem_in_use_delta');
    if (!seen) providers.set(o.provider, { provider: o.provider, startBytes: start, peakBytes: o.peakBytes, arenaBytes: o.arenaBytes });
    else {
      seen.peakBytes = Math.max(seen.peakBytes, o.peakBytes);
      seen.arenaBytes = Math.max(seen.arenaBytes, o.arenaBytes);
    }
  }
  return { runMs: (last.dur ?? 0) / 1000, operators, providers: [...providers.values()] };
}

/** The operators largest by `key` first, at most `count`. */
export function topOperators(operators: readonly TraceOperator[], key: 'outputBytes' | 'durationMs', count: number): TraceOperator[] {
  return [...operators].sort((a, b) => b[key] - a[key]).slice(0, count);
}

/**
 * What attention's operators add up to in one run: the probabilities (its softmaxes' outputs; for
 * a fused op, the scratch its kernel allocates and frees inside itself, where ONNX Runtime
 * wrote its node statistics, else the rise it made in the allocator's peak, a lower bound),
 * every attention output, and time.
 */
export function attentionTotals(
  operators: readonly TraceOperator[],
  fusedOps: ReadonlySet<string>,
): { probabilityBytes: number; fusedScratchBytes?: number; operatorBytes: number; ms: number; otherBytes: number; totalMs: number } {
  let probabilityBytes = 0;
  let fusedScratchBytes: number | undefined;
  let operatorBytes = 0;
  let ms = 0;
  let otherBytes = 0;
  let totalMs = 0;
  const peakBefore = new Map<string, number>();
  for (const o of operators) {
    totalMs += o.durationMs;
    const before = peakBefore.get(o.provider) ?? 0;
    peakBefore.set(o.provider, Math.max(before, o.peakBytes));
    if (!o.attention) {
      otherBytes += o.outputBytes;
      continue;
    }
    operatorBytes += o.outputBytes;
    ms += o.durationMs;
    if (o.op === 'Softmax') probabilityBytes += o.outputBytes;
    else if (fusedOps.has(o.op)) {
      const scratch = o.scratchBytes ?? (o.peakBytes > before ? o.peakBytes - o.inUseBytes : 0);
      probabilityBytes += scratch;
      fusedScratchBytes = (fusedScratchBytes ?? 0) + scratch;
    }
  }
  return { probabilityBytes, ...(fusedScratchBytes === undefined ? {} : { fusedScratchBytes }), operatorBytes, ms, otherBytes, totalMs };
}
