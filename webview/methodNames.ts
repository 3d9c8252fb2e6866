// The lab's methods as a reader names them: the JSON keeps the short keys.
import type { BudgetMethod } from '../src/analysis/methodBudget';

const METHOD_NAMES: Record<BudgetMethod, string> = {
  local: 'local window',
  strided: 'strided',
  fixed: 'fixed blocks',
  adaptiveSpan: 'adaptive span',
  lsh: 'LSH, shared Q/K',
  lshSeparate: 'LSH, separate Q/K',
  routing: 'routing clusters',
};

export const methodName = (method: string): string => METHOD_NAMES[method as BudgetMethod] ?? method;
