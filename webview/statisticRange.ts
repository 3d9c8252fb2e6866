// The range a head statistic's colours span, in the overview and in the compare panel's differences.
import type { CaptureSummary } from '../src/protocol';

/**
 * Fixed where the quantity has one (shares and recalls 0-1, entropy 0 to the largest uniform
 * entropy, distances 0 to n - 1), so that a narrow spread of values does not look like a wide one.
 */
export function statisticRange(s: CaptureSummary, stat: string): [number, number] {
  const heads = s.analysis?.heads ?? [];
  if (stat === 'entropyNats') return [0, Math.max(0, ...heads.map((h) => h.uniformEntropyNats))];
  if (stat === 'span90' || stat === 'meanDistance') return [0, Math.max(1, s.tokens.length - 1, (s.target?.tokens.length ?? 0) - 1)];
  return [0, 1];
}
