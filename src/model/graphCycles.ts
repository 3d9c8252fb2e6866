// Whether a graph's nodes form a cycle: a node that reads, through any chain of nodes, its own
// output. ONNX graphs are acyclic; the searches and rewrites that follow tensors up and down a
// graph rely on it, so a cyclic graph is refused before any of them runs.
import type { OnnxGraph } from './onnxGraph';

/**
 * The name (or first output) of a node that lies on a cycle of the graph, or undefined when it
 * is acyclic. One pass of Kahn's algorithm over nodes and edges; the nodes it cannot order are
 * on a cycle or after one, and walking back from one of them through unordered producers
 * reaches a node of the cycle itself.
 */
export function nodeOnCycle(graph: OnnxGraph): string | undefined {
  const producerIndex = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o && producerIndex.set(o, i)));
  const waiting = new Int32Array(graph.nodes.length);
  const consumers: number[][] = graph.nodes.map(() => []);
  graph.nodes.forEach((n, i) => {
    for (const t of n.inputs) {
      const p = t ? producerIndex.get(t) : undefined;
      if (p === undefined) continue;
      waiting[i]++;
      consumers[p].push(i);
    }
  });
  const ready: number[] = [];
  waiting.forEach((w, i) => w === 0 && ready.push(i));
  let ordered = 0;
  while (ready.length) {
    const i = ready.pop()!;
    ordered++;
    for (const c of consumers[i]) if (--waiting[c] === 0) ready.push(c);
  }
  if (ordered === graph.nodes.length) return undefined;
  let at = waiting.findIndex((w) => w > 0);
  const visited = new Set<number>();
  while (!visited.has(at)) {
    visited.add(at);
    const n = graph.nodes[at];
    at = n.inputs.map((t) => (t ? producerIndex.get(t) : undefined)).find((p) => p !== undefined && waiting[p] > 0)!;
  }
  const n = graph.nodes[at];
  return n.name || n.outputs[0];
}
