// What a head does, in words, from its statistics. The thresholds are documented in docs/methods.md.
import type { HeadStats } from './headStats';

/** A head is labelled by a target that takes at least this share of its attention. */
export const MAJORITY = 0.5;
/**
 * Broad: entropy at least this share of the uniform entropy log n. Clark et al. call heads above
 * 3.8 nats broad at n ~ 128 (0.78 of log 128); a share keeps the label the same at any n.
 */
export const BROAD_SHARE = 0.8;
/** Local: 90% of the mass within this many tokens, at least 3 or n / 32. */
export const localSpan = (n: number): number => Math.max(3, Math.floor(n / 32));

export function headLabels(s: Omit<HeadStats, 'labels' | 'layer' | 'head'>, n: number): string[] {
  const labels: string[] = [];
  if (s.uniformEntropyNats > 0 && s.entropyNats >= BROAD_SHARE * s.uniformEntropyNats) labels.push('broad');
  if (s.toPrev !== null && s.toPrev >= MAJORITY) labels.push('previous');
  if (s.toNext !== null && s.toNext >= MAJORITY) labels.push('next');
  if (s.toSelf !== null && s.toSelf >= MAJORITY) labels.push('self');
  if (s.toCls >= MAJORITY) labels.push('[CLS]');
  if (s.toSep >= MAJORITY) labels.push('[SEP]');
  if (s.toPunct >= MAJORITY) labels.push('punctuation');
  // a causal head parked on the first position: the attention sink (an encoder's is its [CLS];
  // cross-attention, whose keys are another text's, has none)
  if (s.toNext === null && s.toPrev !== null && s.toFirst >= MAJORITY && s.toCls < MAJORITY) labels.push('sink');
  // induction: the majority of the other labels, 37 times what a uniform causal row gives one key
  // on the probe's second copy (1.4% at 50 tokens shown twice)
  if (s.induction !== null && s.induction >= MAJORITY) labels.push('induction');
  const positional = labels.some((l) => l === 'previous' || l === 'next' || l === 'self');
  if (!positional && !labels.includes('broad') && s.span90 !== null && s.span90 <= localSpan(n)) labels.push('local');
  return labels;
}
