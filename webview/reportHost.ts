// The standalone report's stand-in for the extension host, bundled: it answers the webview's
// requests from the report's data with the very functions the engine answers them with, so that
// a head, a tile or the words of a head come out of the report as they come out of the editor.
import type { AttentionCapture } from '../src/analysis/attentionCapture';
import type { MemoryProfile } from '../src/analysis/memoryProfile';
import { askedHead, headTile, headsWindow, tokenRows } from '../src/analysis/captureViews';
import { CaptureSummary, HostMessage, MemoryChart, MemoryViewMessage, PanelHandlers, PanelMethod, WebviewMessage, WebviewState, panelReply } from '../src/protocol';
import type { HostApi } from './hostApi';

/** What the report holds: the summary, and every head's matrix when they fit (base64 float32); or a memory profile, and the estimate of the config beside its model. */
export type ReportData = CaptureReport | { profile: MemoryProfile; estimate?: MemoryChart };

interface CaptureReport {
  summary: CaptureSummary;
  matrices?: { layer: number; head: number; queries: number; keys: number; probs: string }[];
  /** why the matrices were left out, said when a head is asked for */
  leftOut: string;
}

declare global {
  interface Window {
    attentionLensReport: ReportData;
  }
}

const decoded = (b64: string): Float32Array => {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
};

/** The report's heads as a capture: each layer's heads in one array, as the engine holds them. */
function reportCapture(data: CaptureReport): AttentionCapture | undefined {
  if (!data.matrices) return undefined;
  const s = data.summary;
  const layers = s.layers.map((l, li) => {
    const heads = data.matrices!.filter((m) => m.layer === li).sort((a, b) => a.head - b.head);
    const { queries, keys } = heads[0];
    const probs = new Float32Array(heads.length * queries * keys);
    heads.forEach((h, k) => probs.set(decoded(h.probs), k * queries * keys));
    return { name: l.name, part: l.part, heads: heads.length, queries, keys, probs };
  });
  return { tokens: s.tokens, offsets: s.offsets, inputIds: [], target: s.target && { ...s.target, inputIds: [] }, layerIndices: s.layers.map((l) => l.index), layers, executionProvider: s.executionProvider, warnings: s.warnings };
}

/** What a report answers: a compare panel's pairs need two captures, which a report has not. */
type ReportHandlers = PanelHandlers<Exclude<PanelMethod, 'pair'>>;

/** The panel's requests answered from the report's heads; the head distances need the engine, which a report has not. */
function reportHandlers(data: CaptureReport): ReportHandlers {
  const capture = reportCapture(data);
  const held = (): AttentionCapture => {
    if (!capture) throw new Error(data.leftOut);
    return capture;
  };
  const noHead = (p: { layer: number; head: number }): Error => new Error(`no head ${p.head} in layer ${p.layer}`);
  return {
    head: (p) => {
      const head = askedHead(held(), p.layer, p.head, !!p.words);
      if (!head) throw noHead(p);
      return head;
    },
    tile: (p) => {
      const tile = headTile(held(), p.layer, p.head, p.q0, p.q1, p.k0, p.k1, p.maxCells);
      if (!tile) throw noHead(p);
      return tile;
    },
    headMap: () => {
      throw new Error('a report cannot map the heads: map them in the panel before exporting its report');
    },
    window: (p) => ({ tiles: headsWindow(held(), p.q0, p.q1, p.k0, p.k1, p.maxCells) }),
    tokenRow: (p) => tokenRows(held(), p.token, p.side, p.text),
    // the buckets need the queries and keys, which a report has not: only the head's the lab showed
    buckets: (p) => {
      const shown = data.summary.lab?.buckets;
      if (shown?.layer === p.layer && shown.head === p.head) return shown;
      throw new Error(shown ? `the report holds only the buckets of head ${shown.layer}:${shown.head}, shown when it was written` : 'the report holds no buckets');
    },
  };
}

/** The report's view first, then a reply to each request; nothing for the memory panel's controls, which the report has not. */
async function answer(m: WebviewMessage | MemoryViewMessage, report: ReportData, handlers: ReportHandlers | undefined): Promise<HostMessage | undefined> {
  if ('profile' in report) return m.type === 'ready' ? { type: 'profile', profile: report.profile, ...(report.estimate ? { estimate: report.estimate } : {}) } : undefined;
  if (m.type === 'ready') return { type: 'summary', summary: report.summary };
  return m.type === 'request' && handlers ? panelReply(handlers, m) : undefined;
}

const data = window.attentionLensReport;
const handlers = 'profile' in data ? undefined : reportHandlers(data);
let saved: WebviewState | undefined;
const host: HostApi = {
  getState: () => saved,
  setState: (s) => {
    saved = s;
  },
  saveFile: (name, content, base64) => {
    const bytes = base64 ? Uint8Array.from(atob(content), (c) => c.charCodeAt(0)) : new TextEncoder().encode(content);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes]));
    a.download = name;
    a.click();
  },
  // answered after the webview's own handler is listening, as a host's message would be
  postMessage: (m) => setTimeout(() => void answer(m, data, handlers).then((reply) => reply && window.postMessage(reply, '*')), 0),
};
window.attentionLensHost = host;
