// A worker thread of the engine: the statistics of the layers it is handed. The probabilities
// arrive transferred, not copied, and go back the same way with the statistics.
import { parentPort } from 'node:worker_threads';
import { layerHeadStats } from '../analysis/attentionAnalysis';
import type { StatsReply, StatsRequest } from './statsPool';

parentPort!.on('message', (req: StatsRequest) => {
  let reply: StatsReply;
  try {
    reply = { id: req.id, probs: req.layer.probs, stats: layerHeadStats(req.layer, req.layerIndex, req.plan) };
  } catch (e) {
    reply = { id: req.id, probs: req.layer.probs, error: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(reply, [reply.probs.buffer as ArrayBuffer]);
});
