// A profiled run read into a point of a memory profile, in the engine: the trace stays here,
// the host receives the figures and one timeline.
import { ProfilePoint, ProfiledOperator, TimelineStep } from '../analysis/memoryProfile';
import { attentionMatcher, attentionTotals, nodeScratchBytes, topOperators, TraceOperator, tracedRun } from '../analysis/profileTrace';
import type { LoadOptions } from '../model/capture';
import { FUSED_OPS } from '../model/fusedAttention';
import { ProfileInput, profiledRun } from '../model/profiledRun';
import type { EngineMethods } from './engineProtocol';

const TOP_OPERATORS = 10;

const listed = ({ node, op, durationMs, outputBytes, attention }: TraceOperator): ProfiledOperator => ({ node, op, durationMs, outputBytes, attention });

export async function profiledPoint(load: LoadOptions, input: ProfileInput): Promise<EngineMethods['profile']['result']> {
  const run = await profiledRun(load, input);
  const target = run.target;
  const traced = tracedRun(run.trace, attentionMatcher(target.attentionNodes, FUSED_OPS), nodeScratchBytes(run.nodeStats ?? ''));
  // the main allocator: the one with the largest peak (the GPU's on CUDA, the CPU's otherwise)
  const main = [...traced.providers].sort((a, b) => b.peakBytes - a.peakBytes)[0] ?? { provider: '', startBytes: 0, peakBytes: 0, arenaBytes: 0 };
  const totals = attentionTotals(traced.operators, FUSED_OPS);
  const point: ProfilePoint = {
    n: input.n,
    batch: input.batch,
    wallMs: run.wallMs,
    peakBytes: main.peakBytes,
    arenaBytes: main.arenaBytes,
    rssBytes: run.rssBytes,
    weightsBytes: target.weightsBytes,
    attentionBytes: totals.probabilityBytes,
    ...(totals.fusedScratchBytes === undefined ? {} : { fusedScratchBytes: totals.fusedScratchBytes }),
    attentionOperatorBytes: totals.operatorBytes,
    otherActivationBytes: totals.otherBytes,
    kvCacheBytes: run.kvCacheBytes,
    attentionMs: totals.ms,
    operatorMs: totals.totalMs,
    providers: traced.providers,
    operators: { byBytes: topOperators(traced.operators, 'outputBytes', TOP_OPERATORS).map(listed), byTime: topOperators(traced.operators, 'durationMs', TOP_OPERATORS).map(listed) },
  };
  if (run.tapped) {
    const copy = tracedRun(run.tapped.trace, () => false).providers.find((x) => x.provider === main.provider);
    point.tapped = { peakBytes: copy?.peakBytes ?? 0, wallMs: run.tapped.wallMs, rssBytes: run.tapped.rssBytes };
  }
  const timeline: TimelineStep[] = traced.operators.map(({ node, op, inUseBytes, outputBytes, durationMs, attention, inputShapes, outputShapes }) => ({ node, op, inUseBytes, outputBytes, durationMs, attention, inputShapes, outputShapes }));
  return { point, timeline, executionProvider: run.executionProvider, queries: run.queries, rssReset: run.rssReset };
}
