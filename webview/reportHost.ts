// The standalone report's stand-in for the extension host, bundled: it answers the webview's
// requests from the report's data with the very functions the engine answers them with, so that
// a head, a tile or the words of a head come out of the report as they come out of the editor.
import type { AttentionCapture } from '../src/analysis/attentionCapture';
import type { MemoryProfile } from '../src/analysis/memoryProfile';
import { askedHead, headTile } from '../src/analysis/captureViews';
import type { CaptureSummary, HostMessage, WebviewMessage, WebviewState } from '../src/protocol';
import type { HostApi } from './hostApi';

/** What the report holds: the summary, and every head's matrix when they fit (base64 float32); or a memory profile. */
export type ReportData = CaptureReport | { profile: MemoryProfile };

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

function answer(m: WebviewMessage, report: ReportData, capture: AttentionCapture | undefined): HostMessage | undefined {
  if ('profile' in report) return m.type === 'ready' ? { type: 'profile', profile: report.profile } : undefined;
  const data = report;
  if (m.type === 'ready') return { type: 'summary', summary: data.summary };
  if (m.type !== 'requestHead' && m.type !== 'requestTile') return undefined;
  if (!capture) return { type: 'error', id: m.id, message: data.leftOut };
  if (m.type === 'requestTile') {
    const tile = headTile(capture, m.layer, m.head, m.q0, m.q1, m.k0, m.k1, m.maxCells);
    return tile ? { type: 'headTile', id: m.id, tile } : { type: 'error', id: m.id, message: `no head ${m.head} in layer ${m.layer}` };
  }
  const head = askedHead(capture, m.layer, m.head, !!m.words);
  return head ? { type: 'headMatrix', id: m.id, ...head } : { type: 'error', id: m.id, message: `no head ${m.head} in layer ${m.layer}` };
}

const data = window.attentionLensReport;
const capture = 'profile' in data ? undefined : reportCapture(data);
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
  postMessage: (m) =>
    setTimeout(() => {
      // the report has no memory panel: its controls' message is not for it
      const reply = m.type === 'memoryControls' ? undefined : answer(m, data, capture);
      if (reply) window.postMessage(reply, '*');
    }, 0),
};
window.attentionLensHost = host;
