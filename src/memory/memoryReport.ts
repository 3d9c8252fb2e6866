// The estimate as people read it: the lens line that decides whether the model runs in the
// mode, a compact hover table, the parts of the model's attention, its methods against its own
// geometry, and memory against sequence length for a chart.
import { ConfigSite, FileSettings, configSites } from './configSites';
import { EstimateSettings, attentionShape } from './modelDims';
import {
  AttentionPart,
  AttentionShape,
  DTYPES,
  DTYPE_BYTES,
  EstimateError,
  METHOD_NAMES,
  MODES,
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

/** A count as a whole number with separators; beyond 1e15, in powers of ten. */
const count = (v: number): string => (v >= 1e15 ? v.toExponential(2).replace('e+', 'e') : Math.round(v).toLocaleString('en-US'));
const bothUnits = (bytes: number): string => `${binaryBytes(bytes)} (${decimalBytes(bytes)})`;

export const PART_LABELS: Record<AttentionPart['part'], string> = {
  self: 'self',
  encoderSelf: 'encoder self',
  decoderSelf: 'decoder self',
  cross: 'cross',
};

/** "window 4096" or "window 4096, 13 of 26 layers" */
function windowText(s: AttentionShape, part: AttentionPart): string {
  if (!part.windowedLayers || !s.slidingWindow) return '';
  return part.windowedLayers === part.layers ? `window ${s.slidingWindow}` : `window ${s.slidingWindow}, ${part.windowedLayers} of ${part.layers} layers`;
}

const kvCacheText = (e: MemoryEstimate): string => {
  const self = e.dense.parts[0];
  if (!e.dense.kvCacheBytes) return 'no KV cache (encoder)';
  const how = e.shape.decoder ? 'self + cross' : [e.shape.latent ? 'latent' : '', windowText(e.shape, self)].filter(Boolean).join(', ');
  return `KV cache ${binaryBytes(e.dense.kvCacheBytes)}${how ? ` (${how})` : ''}`;
};

/** Where n, batch and dtype came from, and what is off about them, for the lens and the hover. */
export interface EstimateNotes {
  /** the key that set n ("training.seq_len"), when a key of the file did */
  seqKey?: string;
  seqAssumed?: boolean;
  /** the model's positions, when n is above them */
  positionsExceeded?: number;
}

/**
 * The figure that decides whether the model runs in the mode: inference "inference at n=8192,
 * bf16: KV cache 1 GiB, attention scores 256 MiB/layer (fused kernel: none)"; training leads with
 * every layer's activations.
 */
export function memoryLensTitle(e: MemoryEstimate, notes: EstimateNotes = {}): string {
  const s = e.shape;
  const d = e.dense;
  const at = `${s.mode} at n=${s.seq}${notes.seqKey ? ` (${notes.seqKey})` : ''}, ${s.dtype}${s.batch > 1 ? `, batch ${s.batch}` : ''}`;
  const scores = s.fusedKernel
    ? 'attention scores: none (fused kernel)'
    : `attention scores ${binaryBytes(d.transientScoresBytes)}/layer (${s.float32Scores ? 'GroupQueryAttention on the CPU: fp32' : 'fused kernel: none'})`;
  const figures =
    s.mode === 'training'
      ? `activations ${binaryBytes(d.trainingActivationBytes)} over ${s.layers + (s.decoder?.layers ?? 0)} layers, ${
          s.fusedKernel ? 'probabilities recomputed (fused kernel)' : `probabilities ${binaryBytes(d.trainingAttentionBytes)} of it (fused kernel: none)`
        }`
      : `${kvCacheText(e)}, ${scores}${s.mode === 'decode' ? ' per token' : ''}`;
  const flags = [
    notes.positionsExceeded ? `⚠ n above the model's ${notes.positionsExceeded} positions` : '',
    notes.seqAssumed ? `n=${s.seq} assumed: set attentionLens.sequenceLength` : '',
  ].filter(Boolean);
  return [`${at}: ${figures}`, ...flags].join(' · ');
}

export interface MemoryRow {
  method: MethodName | 'dense';
  label: string;
  scoresPerLayer: number;
  bytesAllLayers: number;
  flopsPerLayer: number;
  longestDependency: number;
  params: string;
}

/** The bytes of the model's own self-attention over all layers (an encoder-decoder's encoder): what the methods replace. */
const ownAttentionBytes = (e: MemoryEstimate): number => e.dense.parts[0].scoresFloatsAllLayers * DTYPE_BYTES[e.shape.dtype];

/** The model's own self-attention (its windows, not dense, when it has them), then the eight methods. */
export function memoryRows(e: MemoryEstimate): MemoryRow[] {
  const own = e.dense.parts[0];
  const window = windowText(e.shape, own);
  const model: MemoryRow = {
    method: 'dense',
    label: window ? `This model (${window})` : e.shape.decoder ? 'Dense (encoder self)' : METHOD_LABELS.dense,
    scoresPerLayer: own.scoresFloatsPerLayer,
    bytesAllLayers: ownAttentionBytes(e),
    flopsPerLayer: e.dense.flopsPerLayer,
    longestDependency: e.shape.seq,
    params: '',
  };
  return [
    model,
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
          .map(([k, v]) => `${k} ${typeof v === 'number' ? Math.round(v) : v}`)
          .join(', '),
      };
    }),
  ];
}

/** What the mode holds at its peak, one line each with its unit. */
export function peakRows(e: MemoryEstimate): [string, string][] {
  const s = e.shape;
  const d = e.dense;
  const weights: [string, string] =
    d.weightBytes === undefined
      ? ['weights', 'not counted (the config gives no vocab_size)']
      : [s.mode === 'training' ? 'weights, gradients, Adam (16 B/parameter)' : `weights (${s.weightBits ? `${s.weightBits}-bit` : s.dtype})`, binaryBytes(d.weightBytes)];
  const rows: [string, string][] = [weights];
  if (s.mode === 'training') rows.push([`activations, ${s.layers + (s.decoder?.layers ?? 0)} layers (Korthikanti, 16-bit)`, binaryBytes(d.trainingActivationBytes)]);
  else
    rows.push(
      ['KV cache', d.kvCacheBytes ? binaryBytes(d.kvCacheBytes) : 'none (encoder)'],
      [`attention scores, largest layer`, s.fusedKernel ? 'none (fused kernel)' : binaryBytes(d.transientScoresBytes)],
      ['activations, one layer', binaryBytes(d.layerActivationBytes)],
      ...(d.logitsBytes > 0 ? [['logits (fp32)', binaryBytes(d.logitsBytes)] as [string, string]] : []),
    );
  rows.push([`peak${d.weightBytes === undefined ? ' without weights' : ''}`, binaryBytes(d.peakBytes)]);
  return rows;
}

/** Each kind of attention in the model, its own row: layers, queries x keys, scores a layer, its cache (the window is said above the table). */
export function partRows(e: MemoryEstimate): string[][] {
  const bytes = e.dense.attentionBytesPerLayer / Math.max(1, e.dense.attentionFloatsPerLayer);
  return e.dense.parts.map((p) => [
    PART_LABELS[p.part],
    `${p.layers}`,
    `${count(p.queries)} × ${count(p.keys)}`,
    binaryBytes(p.scoresFloatsPerLayer * bytes),
    p.kvCacheBytes ? binaryBytes(p.kvCacheBytes) : 'none',
  ]);
}

/** The methods against the model's own attention, the biggest differences first. */
function methodsByDifference(e: MemoryEstimate): { row: MemoryRow; ratio: number }[] {
  const [model, ...methods] = memoryRows(e);
  return methods
    .map((row) => ({ row, ratio: row.bytesAllLayers / Math.max(1, model.bytesAllLayers) }))
    .sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)));
}

const ratioText = (r: number): string => (r >= 1 ? `${Number(r.toPrecision(2))}× more` : `${Number((1 / r).toPrecision(2))}× less`);

/** The hover: what the mode holds, the model's attention parts, and the methods against it; narrow enough for a 500 px hover. */
export function memoryMarkdown(e: MemoryEstimate, notes: EstimateNotes = {}): string {
  const s = e.shape;
  const [model] = memoryRows(e);
  const window = windowText(s, e.dense.parts[0]);
  const lines = [
    `**${s.mode} at n = ${s.seq}**, ${s.dtype}, batch ${s.batch}${s.fusedKernel ? ', fused kernel' : ''}`,
    '',
    `${s.layers}${s.decoder ? ` + ${s.decoder.layers}` : ''} layers, ${s.heads} heads (${s.latent ? `latent ${s.latent.kvLoraRank} + rope ${s.latent.ropeHeadDim}` : `${s.kvHeads} KV`}) of ${s.headDim}${window ? `, ${window}` : ''}`,
    '',
    '| holds | memory |',
    '| --- | ---: |',
    ...peakRows(e).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '| attention | layers | q × k | scores/layer | KV cache |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...partRows(e).map((r) => `| ${r.join(' | ')} |`),
    '',
    `| method, all layers | memory | vs ${model.label.startsWith('Dense') ? 'dense' : 'this model'} |`,
    '| --- | ---: | ---: |',
    `| ${model.label} | ${binaryBytes(model.bytesAllLayers)} | |`,
    ...methodsByDifference(e).map(({ row, ratio }) => `| ${row.label} | ${binaryBytes(row.bytesAllLayers)} | ${ratioText(ratio)} |`),
  ];
  if (notes.positionsExceeded) lines.push('', `⚠ n = ${s.seq} is above the model's ${notes.positionsExceeded} positions.`);
  if (notes.seqAssumed) lines.push('', `n = ${s.seq} assumed: set attentionLens.sequenceLength.`);
  return lines.join('\n');
}

export interface MemorySeries {
  method: MethodName | 'dense';
  label: string;
  seq: number[];
  bytes: number[];
}

/** Memory of every method against n on a doubling grid that brackets the user's n; the model's own attention first. */
export function memorySeries(shape: AttentionShape, params: MethodParams = {}): MemorySeries[] {
  const top = Math.max(2 ** 17, 4 * shape.seq);
  const grid: number[] = [];
  for (let n = 64; n <= top; n *= 2) grid.push(n);
  if (!grid.includes(shape.seq)) grid.push(shape.seq);
  grid.sort((a, b) => a - b);
  const estimates = grid.map((seq) => memoryEstimate({ ...shape, seq }, params));
  const modelLabel = memoryRows(estimates[grid.indexOf(shape.seq)])[0].label;
  return (['dense', ...METHOD_NAMES] as const).map((method) => ({
    method,
    label: method === 'dense' ? modelLabel : METHOD_LABELS[method],
    seq: grid,
    bytes: estimates.map((e) => (method === 'dense' ? ownAttentionBytes(e) : e.methods[method].bytesAllLayers)),
  }));
}

/** What the memory panel draws, formatted here so that the webview only draws. */
export function memoryChart(shape: AttentionShape, notes: EstimateNotes = {}) {
  const e = memoryEstimate(shape);
  const ticks = [1, 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4, 1024 ** 5, 1024 ** 6];
  return {
    shape: { ...shape } as unknown as Record<string, number | string | boolean>,
    title: memoryLensTitle(e, notes),
    seq: shape.seq,
    controls: { seq: shape.seq, batch: shape.batch, dtype: shape.dtype, mode: shape.mode, fusedKernel: shape.fusedKernel === true, dtypes: [...DTYPES], modes: [...MODES] },
    peak: peakRows(e),
    parts: { header: ['attention', 'layers', 'q × k', 'scores / layer', 'KV cache'], rows: partRows(e) },
    series: memorySeries(shape).map((s) => ({ ...s, bytesText: s.bytes.map(bothUnits) })),
    byteTicks: { values: ticks, text: ticks.map(binaryBytes) },
    table: {
      header: ['method', 'scores / layer', 'all layers', 'FLOPs / layer', 'longest dependency', 'parameters'],
      rows: memoryRows(e).map((r) => [r.label, `${count(r.scoresPerLayer)} floats`, bothUnits(r.bytesAllLayers), flops(r.flopsPerLayer), `${count(r.longestDependency)} tokens`, r.params]),
    },
  };
}

// Configs that name no maximum length (PyTorch modules, T5) are estimated at this n, and say so.
export const ASSUMED_SEQ = 512;

export interface SiteEstimate {
  shape: AttentionShape;
  notes: EstimateNotes;
  title: string;
  /** the hover's table, written only when asked for: the lens needs the title alone */
  markdown: () => string;
}

/**
 * A config site's estimate, or why there is none. n, batch and dtype: the settings, else the
 * file's own training keys, else the config's positions and torch_dtype.
 */
export function siteEstimate(site: ConfigSite, settings: EstimateSettings, training: FileSettings = {}): SiteEstimate | { problem: string } {
  if (site.missing.length) return { problem: `${site.label}: missing ${site.missing.join(', ')}` };
  const fromFile = settings.seq === undefined ? training.seq : undefined;
  const assumed = settings.seq === undefined && !fromFile && site.dims.maxPositions === undefined;
  const seq = settings.seq ?? fromFile?.value ?? (assumed ? ASSUMED_SEQ : undefined);
  const shaped = attentionShape(site.dims, { ...settings, seq, batch: settings.batch ?? training.batch?.value, dtype: settings.dtype ?? training.dtype?.value });
  if ('missing' in shaped) return { problem: `${site.label}: missing ${shaped.missing.join(', ')}` };
  const positions = site.dims.maxPositions;
  const notes: EstimateNotes = {
    ...(fromFile ? { seqKey: fromFile.key } : {}),
    ...(assumed ? { seqAssumed: true } : {}),
    ...(positions !== undefined && shaped.shape.seq > positions ? { positionsExceeded: positions } : {}),
  };
  try {
    const e = memoryEstimate(shaped.shape);
    return { shape: shaped.shape, notes, title: memoryLensTitle(e, notes), markdown: () => memoryMarkdown(e, notes) };
  } catch (err) {
    if (err instanceof EstimateError) return { problem: `${site.label}: ${err.message}` };
    throw err;
  }
}

/** The estimate of a config file's first complete model configuration (the profiler's Estimate tab), or why it has none. */
export function configFileChart(text: string, settings: EstimateSettings): ReturnType<typeof memoryChart> | { problem: string } {
  const scan = configSites(text, 'json');
  const site = scan.sites.find((s) => s.missing.length === 0) ?? scan.sites[0];
  if (!site) return { problem: scan.problems[0] ?? 'the file holds no model configuration' };
  const e = siteEstimate(site, settings, scan.training);
  return 'problem' in e ? e : memoryChart(e.shape, e.notes);
}
