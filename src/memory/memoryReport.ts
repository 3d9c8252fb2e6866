// The estimate as people read it: one-line summaries, a table of dense against the methods,
// and memory against sequence length for a chart.
import type { ConfigSite } from './configSites';
import { EstimateSettings, attentionShape } from './modelDims';
import {
  AttentionShape,
  EstimateError,
  METHOD_NAMES,
  MemoryEstimate,
  MethodName,
  MethodParams,
  memoryEstimate,
} from './attentionMemory';
import { binaryBytes, decimalBytes, flops } from '../analysis/units';

export const METHOD_LABELS: Record<MethodName | 'dense', string> = {
  dense: 'Dense',
  strided: 'Sparse Transformer, strided',
  fixed: 'Sparse Transformer, fixed',
  local: 'Local window',
  adaptiveSpan: 'Adaptive span',
  lsh: 'Reformer LSH',
  routing: 'Routing',
  transformerXL: 'Transformer-XL',
  compressive: 'Compressive',
};

export interface MemoryRow {
  method: MethodName | 'dense';
  label: string;
  scoresPerLayer: number;
  bytesAllLayers: number;
  flopsPerLayer: number;
  longestDependency: number;
  params: string;
}

export function memoryRows(e: MemoryEstimate): MemoryRow[] {
  const dense: MemoryRow = {
    method: 'dense',
    label: METHOD_LABELS.dense,
    scoresPerLayer: e.dense.attentionFloatsPerLayer,
    bytesAllLayers: e.dense.attentionBytesAllLayers,
    flopsPerLayer: e.dense.flopsPerLayer,
    longestDependency: e.shape.seq,
    params: '',
  };
  return [
    dense,
    ...METHOD_NAMES.map((m) => {
      const x = e.methods[m];
      return {
        method: m,
        label: METHOD_LABELS[m],
        scoresPerLayer: x.attentionFloatsPerLayer,
        bytesAllLayers: x.bytesAllLayers,
        flopsPerLayer: x.flopsPerLayer,
        longestDependency: x.longestDependency,
        params: Object.entries(x.params)
          .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toFixed(2)) : v}`)
          .join(', '),
      };
    }),
  ];
}

const count = (v: number): string => (v >= 1e6 ? v.toExponential(2).replace('e+', 'e') : v.toLocaleString('en-US'));
const bothUnits = (bytes: number): string => `${binaryBytes(bytes)} (${decimalBytes(bytes)})`;

export function shapeLabel(s: AttentionShape): string {
  return `${s.dtype}, batch ${s.batch}, ${s.mode}`;
}

/** "attention at n=512: 12 MiB/layer, 144 MiB in all (fp32, batch 1)" */
export function memoryLensTitle(e: MemoryEstimate): string {
  const d = e.dense;
  return `attention at n=${e.shape.seq}: ${binaryBytes(d.attentionBytesPerLayer)}/layer, ${binaryBytes(d.attentionBytesAllLayers)} in all (${e.shape.dtype}, batch ${e.shape.batch})`;
}

export function memoryMarkdown(e: MemoryEstimate): string {
  const s = e.shape;
  const d = e.dense;
  const lines = [
    `**Attention memory** at n = ${s.seq}: ${s.layers} layers, ${s.heads} heads (${s.kvHeads} key/value), head dim ${s.headDim}, ${shapeLabel(s)}${s.causal ? ', causal' : ''}`,
    '',
    '| method | scores / layer | attention, all layers | FLOPs / layer | longest dependency | parameters |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...memoryRows(e).map((r) => `| ${r.label} | ${count(r.scoresPerLayer)} | ${bothUnits(r.bytesAllLayers)} | ${flops(r.flopsPerLayer)} | ${count(r.longestDependency)} | ${r.params} |`),
    '',
    `Keys ${count(d.keysFloatsPerLayer)} floats/layer; ${s.causal ? `KV cache ${bothUnits(d.kvCacheBytes)}${s.slidingWindow && s.slidingWindow < s.seq ? ` (a sliding window of ${s.slidingWindow} positions)` : ''}` : 'no KV cache (an encoder)'}; ` +
      `training activations (Korthikanti et al., 16-bit) ${bothUnits(d.activationBytesPerLayer)}/layer, of which attention ${bothUnits(d.activationAttentionBytesPerLayer)}.`,
  ];
  return lines.join('\n');
}

export interface MemorySeries {
  method: MethodName | 'dense';
  label: string;
  seq: number[];
  bytes: number[];
}

/** Memory of every method against n on a doubling grid that brackets the user's n. */
export function memorySeries(shape: AttentionShape, params: MethodParams = {}): MemorySeries[] {
  const top = Math.max(2 ** 17, 4 * shape.seq);
  const grid: number[] = [];
  for (let n = 64; n <= top; n *= 2) grid.push(n);
  if (!grid.includes(shape.seq)) grid.push(shape.seq);
  grid.sort((a, b) => a - b);
  const estimates = grid.map((seq) => memoryEstimate({ ...shape, seq }, params));
  return (['dense', ...METHOD_NAMES] as const).map((method) => ({
    method,
    label: METHOD_LABELS[method],
    seq: grid,
    bytes: estimates.map((e) => (method === 'dense' ? e.dense.attentionBytesAllLayers : e.methods[method].bytesAllLayers)),
  }));
}

/** What the memory panel draws, formatted here so that the webview only draws. */
export function memoryChart(shape: AttentionShape) {
  const e = memoryEstimate(shape);
  const ticks = [1, 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4, 1024 ** 5, 1024 ** 6];
  return {
    shape: { ...shape },
    title: memoryLensTitle(e),
    seq: shape.seq,
    series: memorySeries(shape).map((s) => ({ ...s, bytesText: s.bytes.map(bothUnits) })),
    byteTicks: { values: ticks, text: ticks.map(binaryBytes) },
    table: {
      header: ['method', 'scores / layer', 'attention, all layers', 'FLOPs / layer', 'longest dependency', 'parameters'],
      rows: memoryRows(e).map((r) => [r.label, count(r.scoresPerLayer), bothUnits(r.bytesAllLayers), flops(r.flopsPerLayer), count(r.longestDependency), r.params]),
    },
  };
}

// Configs that name no maximum length (PyTorch modules, T5) are estimated at this n, and say so.
export const ASSUMED_SEQ = 512;

/** A config site's estimate under the settings (lens line, hover table), or why there is none. */
export function siteEstimate(site: ConfigSite, settings: EstimateSettings): { shape: AttentionShape; title: string; markdown: string } | { problem: string } {
  if (site.missing.length) return { problem: `${site.label}: missing ${site.missing.join(', ')}` };
  const assumed = settings.seq === undefined && site.dims.maxPositions === undefined;
  const shaped = attentionShape(site.dims, assumed ? { ...settings, seq: ASSUMED_SEQ } : settings);
  if ('missing' in shaped) return { problem: `${site.label}: missing ${shaped.missing.join(', ')}` };
  try {
    const e = memoryEstimate(shaped.shape);
    const note = assumed ? `n=${ASSUMED_SEQ} assumed: set attentionLens.sequenceLength` : '';
    return { shape: shaped.shape, title: memoryLensTitle(e) + (note ? ` · ${note}` : ''), markdown: memoryMarkdown(e) + (note ? `\n\n${note}.` : '') };
  } catch (err) {
    if (err instanceof EstimateError) return { problem: `${site.label}: ${err.message}` };
    throw err;
  }
}
