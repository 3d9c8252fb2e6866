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
  encode(text: string): TokenizedText;
  idToToken(id: number): string;
}
