// A worker thread of the engine: the statistics of the layers it is handed, the head distances
// of the blocks of queries it is handed. The probabilities arrive transferred, not copied, and go
// back the same way with the results.
import { parentPort } from 'node:worker_threads';
import { layerHeadStats } from '../analysis/attentionAnalysis';
import { blockDivergences } from '../analysis/divergenceKernel';
import type { DistanceReply, DistanceRequest, StatsReply, StatsRequest } from './statsPool';

function statsReply(req: StatsRequest): StatsReply {
  try {
    return { id: req.id, probs: req.layer.probs, stats: layerHeadStats(req.layer, req.layerIndex, req.plan) };
  } catch (e) {
    return { id: req.id, probs: req.layer.probs, error: (e as Error).stack ?? String(e) };
  }
}

function distanceReply({ id, block, heads, q0, rows, keys, causal }: DistanceRequest): DistanceReply {
  try {
    const floats = rows * keys;
    return { id, block, sums: blockDivergences(heads, (h) => block.subarray(h * floats, (h + 1) * floats), q0, rows, keys, causal) };
  } catch (e) {
    return { id, block, error: (e as Error).stack ?? String(e) };
  }
}

parentPort!.on('message', (req: StatsRequest | DistanceRequest) => {
  if (req.kind === 'stats') {
    const reply = statsReply(req);
    parentPort!.postMessage(reply, [reply.probs.buffer as ArrayBuffer]);
  } else {
    const reply = distanceReply(req);
    parentPort!.postMessage(reply, [reply.block.buffer as ArrayBuffer, ...(reply.sums ? [reply.sums.buffer as ArrayBuffer] : [])]);
  }
});
