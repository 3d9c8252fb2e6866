// The numeric statistics of a head, in the order reports and exports list them: one list for
// the corpus average, the JSON contract and the webview's CSV.
import type { HeadStats } from './headStats';

export const HEAD_STAT_KEYS = [
  'toCls',
  'toSep',
  'toPunct',
  'toPrev',
  'toNext',
  'toSelf',
  'toFirst',
  'sinkMass',
  'entropyNats',
  'uniformEntropyNats',
  'meanDistance',
  'span50',
  'span90',
  'span99',
  'span90Max',
  'toPrevOccurrence',
  'induction',
] as const satisfies readonly (keyof HeadStats)[];
