/** A text as token pieces, with each piece's [start, end) offsets in the original text. */
export interface TokenizedText {
  tokens: string[];
  ids: number[];
  offsets: [number, number][];
  /** special tokens ([CLS], [SEP], <s>...) that stand for no text */
  special: boolean[];
}

export interface TextTokenizer {
  readonly kind: 'vocab.txt' | 'tokenizer.json';
  readonly vocabSize: number;
  /** whether encode() adds [CLS]/[SEP]-style tokens (decoder tokenizers do not) */
  readonly addsSpecialTokens: boolean;
  readonly padId: number;
  /** ids that stand for no text ([CLS], <|endoftext|>, ...): no random probe draws them */
  readonly specialIds: ReadonlySet<number>;
  /** the token a text begins with when it has one (BOS, or BERT's [CLS]) */
  readonly bosId: number | undefined;
  encode(text: string): TokenizedText;
  idToToken(id: number): string;
}

/** A special token as tokenizer_config.json and special_tokens_map.json name one: a string or { content }. */
export function specialTokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const content = (v as { content?: unknown } | null | undefined)?.content;
  return typeof content === 'string' ? content : undefined;
}
