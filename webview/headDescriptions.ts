// Heads in words: a head's statistics for its hover, which attention of an encoder-decoder a layer
// is, and the note that cross-attention heads are left out of the views of offsets.
import type { CaptureSummary, HeadSummary } from '../src/protocol';

const fixed = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));

/** A head's statistics, a short line each, so that the hover fits a narrow panel. */
export const describeHead = (h: HeadSummary): string =>
  `layer ${h.layer} head ${h.head}: ${h.labels.join(', ') || 'no label'}<br>` +
  `entropy ${h.entropyNats.toFixed(2)} / ${h.uniformEntropyNats.toFixed(2)} nats<br>` +
  `[CLS] ${h.toCls.toFixed(2)} · [SEP] ${h.toSep.toFixed(2)} · punct ${h.toPunct.toFixed(2)}<br>` +
  (h.toPrev === null
    ? `first ${h.toFirst.toFixed(2)}<br>cross-attention: no offsets or spans`
    : `prev ${fixed(h.toPrev, 2)} · next ${fixed(h.toNext, 2)} · self ${fixed(h.toSelf, 2)}<br>first ${h.toFirst.toFixed(2)}`) +
  // below a percent it is the rounding of float16 rows, not a sink
  `${h.sinkMass > 0.01 ? ` · sink ${h.sinkMass.toFixed(3)}` : ''}` +
  (h.induction === null ? '' : `<br>induction ${h.induction.toFixed(2)} · to previous occurrence ${fixed(h.toPrevOccurrence, 2)}`) +
  (h.span50 === null ? '' : `<br>span 50/90/99% ${h.span50}/${h.span90}/${h.span99}<br>mean distance ${fixed(h.meanDistance, 1)}`);

/** Which attention of an encoder-decoder a layer is, in words; empty for a model of one stack. */
export function partName(s: CaptureSummary, layer: number): string {
  const part = s.layers.find((l) => l.index === layer)?.part;
  return part === 'encoder' ? 'encoder self-attention' : part === 'decoder' ? 'decoder self-attention' : part === 'cross' ? 'cross-attention' : '';
}

/** Heads of cross-attention have no offsets or spans: the views of those say how many were left out. */
export function crossHeadsNote(s: CaptureSummary): string {
  const cross = s.analysis!.heads.filter((h) => h.span90 === null).length;
  return cross ? `${cross} cross-attention heads are left out: their queries and keys are positions of different texts, so offsets and spans do not apply` : '';
}
