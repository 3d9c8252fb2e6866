// A masked LM's predictions under the analysed text: one line per [MASK] (or a causal model's next token).
import type { CaptureSummary } from '../src/protocol';
import { predictionLine } from '../src/analysis/tokenPredictions';

/** The list of the summary's predictions, or undefined when it has none. */
export function predictionsList(s: CaptureSummary): HTMLElement | undefined {
  if (!s.predictions?.length) return undefined;
  const list = document.createElement('ul');
  list.id = 'predictions';
  list.title = "the model's most probable tokens and their softmax probabilities, from its own logits";
  for (const p of s.predictions) {
    const item = document.createElement('li');
    item.textContent = predictionLine(p, s.tokens);
    list.appendChild(item);
  }
  return list;
}
