// Attention between words instead of pieces (Clark et al.): attention to a split word is the sum
// over its pieces, attention from a split word the mean over its pieces.
import type { LayerAttention } from './attentionCapture';

/** Each token's word: a piece continues the word before it when it is a '##' continuation, or when it
 * starts where the previous piece ended (no space between) and neither is special or punctuation. */
export function wordIndices(tokens: readonly string[], offsets: readonly [number, number][], special: (i: number) => boolean): Int32Array {
  const word = new Int32Array(tokens.length);
  let w = -1;
  const punct = (t: string): boolean => /^[\p{P}\p{S}]+$/u.test(t.replace(/^(##|Ġ|▁)/, ''));
  for (let i = 0; i < tokens.length; i++) {
    const continues =
      i > 0 &&
      !special(i) &&
      !special(i - 1) &&
      (tokens[i].startsWith('##') ||
        (offsets[i][0] === offsets[i - 1][1] && offsets[i][1] > offsets[i][0] && !/^[Ġ▁]/.test(tokens[i]) && !punct(tokens[i]) && !punct(tokens[i - 1])));
    if (!continues) w++;
    word[i] = w;
  }
  return word;
}

/** A layer between words; the keys' words are the queries' unless they are another text's (cross-attention). */
export function wordLevelLayer(l: LayerAttention, word: Int32Array, keyWord: Int32Array = word): LayerAttention {
  const Q = l.queries;
  const K = l.keys;
  const words = word.length ? word[word.length - 1] + 1 : 0;
  const keyWords = keyWord.length ? keyWord[keyWord.length - 1] + 1 : 0;
  const pieces = new Float64Array(words);
  for (let i = 0; i < word.length; i++) pieces[word[i]]++;
  const probs = new Float32Array(l.heads * words * keyWords);
  for (let h = 0; h < l.heads; h++) {
    for (let i = 0; i < Q; i++) {
      const wi = word[i];
      const row = (h * Q + i) * K;
      const out = (h * words + wi) * keyWords;
      const share = 1 / pieces[wi];
      for (let j = 0; j < K; j++) probs[out + keyWord[j]] += l.probs[row + j] * share;
    }
  }
  return { name: l.name, part: l.part, heads: l.heads, queries: words, keys: keyWords, probs };
}

/** Special tokens stand alone as words (and are no repeated token to an induction head): BERT's, RoBERTa's, GPT's <|...|>. */
export const isSpecialToken = (t: string): boolean => /^(\[(CLS|SEP|PAD|MASK|UNK)\]|<s>|<\/s>|<pad>|<unk>|<\|[^|\s]+\|>)$/.test(t);

/** Each word's text, its pieces joined ('##' continuations without the marks). */
export function wordLabels(tokens: readonly string[], word: Int32Array): string[] {
  const labels: string[] = [];
  tokens.forEach((t, i) => (labels[word[i]] = labels[word[i]] === undefined ? t : labels[word[i]] + t.replace(/^##/, '')));
  return labels;
}
