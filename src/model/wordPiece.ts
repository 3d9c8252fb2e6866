// BERT's tokenization over a vocab.txt: basic tokenization (cleaning, lower case, accent
// stripping, punctuation and CJK splitting) then greedy longest-match WordPiece, keeping
// every token's character offsets in the original text.
import { InputError } from './inputError';
import { TextTokenizer, TokenizedText } from './tokenizerTypes';

const MAX_WORD_CHARS = 100;

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || /\s/u.test(c);
}

function isControl(c: string): boolean {
  if (c === '\t' || c === '\n' || c === '\r') return false;
  return /[\p{Cc}\p{Cf}]/u.test(c);
}

function isPunctuation(c: string): boolean {
  const cp = c.codePointAt(0)!;
  // BERT treats all non-alphanumeric ASCII as punctuation, plus Unicode P*.
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(c);
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

interface Word {
  text: string;
  /** original offset of each UTF-16 unit of text, plus the end */
  origin: number[];
}

/** Words of BERT's basic tokenizer, each char mapped back to where it came from. */
export function basicWords(text: string, lowerCase: boolean): Word[] {
  const words: Word[] = [];
  let cur: Word = { text: '', origin: [] };
  const flush = (end: number): void => {
    if (cur.text) {
      cur.origin.push(end);
      words.push(cur);
    }
    cur = { text: '', origin: [] };
  };
  let i = 0;
  for (const ch of text) {
    const start = i;
    i += ch.length;
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) {
      flush(start);
      continue;
    }
    if (isCjk(cp) || isPunctuation(ch)) {
      flush(start);
      words.push({ text: lowerCase ? ch.toLowerCase() : ch, origin: [start, ...Array(ch.length - 1).fill(start), i] });
      continue;
    }
    let piece = ch;
    if (lowerCase) piece = ch.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    for (let k = 0; k < piece.length; k++) cur.origin.push(start);
    cur.text += piece;
    // a stripped accent that leaves punctuation behind is rare enough to keep in the word
  }
  flush(i);
  return words;
}

export class WordPieceTokenizer implements TextTokenizer {
  readonly kind = 'vocab.txt';
  readonly vocabSize: number;
  readonly addsSpecialTokens = true;
  readonly padId: number;
  readonly specialIds: ReadonlySet<number>;
  readonly bosId: number;
  private readonly vocab = new Map<string, number>();
  private readonly tokensById: string[];
  private readonly unkId: number;
  private readonly clsId: number;
  private readonly sepId: number;

  /** special tokens written in a text are read as themselves, longest first */
  private readonly specialTokens: string[];

  constructor(
    vocabText: string,
    private readonly lowerCase = true,
    extraSpecialTokens: readonly string[] = [],
  ) {
    this.tokensById = vocabText.split(/\r?\n/);
    if (this.tokensById[this.tokensById.length - 1] === '') this.tokensById.pop();
    this.tokensById.forEach((t, id) => {
      if (!this.vocab.has(t)) this.vocab.set(t, id);
    });
    this.vocabSize = this.tokensById.length;
    const need = (t: string): number => {
      const id = this.vocab.get(t);
      if (id === undefined) throw new InputError(`vocab.txt has no ${t} token: it is not a BERT WordPiece vocabulary`);
      return id;
    };
    this.unkId = need('[UNK]');
    this.clsId = need('[CLS]');
    this.sepId = need('[SEP]');
    this.padId = this.vocab.get('[PAD]') ?? 0;
    this.bosId = this.clsId;
    this.specialTokens = [...new Set(['[CLS]', '[SEP]', '[MASK]', '[PAD]', '[UNK]', ...extraSpecialTokens])]
      .filter((t) => t && this.vocab.has(t))
      .sort((a, b) => b.length - a.length);
    // the named special tokens and BERT's bracketed reserves ([unused0], ...), which no text trains
    const reserved = this.tokensById.flatMap((t, id) => (/^\[.+\]$/.test(t) ? [id] : []));
    this.specialIds = new Set([...this.specialTokens.map((t) => this.vocab.get(t)!), ...reserved]);
  }

  idToToken(id: number): string {
    return this.tokensById[id] ?? `[${id}]`;
  }

  tokenId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  encode(text: string): TokenizedText {
    const out: TokenizedText = { tokens: ['[CLS]'], ids: [this.clsId], offsets: [[0, 0]], special: [true] };
    let from = 0;
    const words = (end: number): void => {
      for (const w of basicWords(text.slice(from, end), this.lowerCase)) this.pushPieces({ text: w.text, origin: w.origin.map((o) => o + from) }, out);
    };
    for (let at = 0; at < text.length; at++) {
      const special = text[at] === '[' ? this.specialTokens.find((t) => text.startsWith(t, at)) : undefined;
      if (!special) continue;
      words(at);
      out.tokens.push(special);
      out.ids.push(this.vocab.get(special)!);
      out.offsets.push([at, at + special.length]);
      out.special.push(true);
      from = at + special.length;
      at = from - 1;
    }
    words(text.length);
    out.tokens.push('[SEP]');
    out.ids.push(this.sepId);
    out.offsets.push([text.length, text.length]);
    out.special.push(true);
    return out;
  }

  private pushPieces(w: Word, out: TokenizedText): void {
    const chars = w.text;
    if (chars.length > MAX_WORD_CHARS) {
      out.tokens.push('[UNK]');
      out.ids.push(this.unkId);
      out.offsets.push([w.origin[0], w.origin[chars.length]]);
      out.special.push(false);
      return;
    }
    const pieces: [string, number, number, number][] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      let piece = '';
      while (start < end) {
        piece = (start > 0 ? '##' : '') + chars.slice(start, end);
        found = this.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        out.tokens.push('[UNK]');
        out.ids.push(this.unkId);
        out.offsets.push([w.origin[0], w.origin[chars.length]]);
        out.special.push(false);
        return;
      }
      pieces.push([piece, found, start, end]);
      start = end;
    }
    for (const [piece, id, s, e] of pieces) {
      out.tokens.push(piece);
      out.ids.push(id);
      out.offsets.push([w.origin[s], e < chars.length ? w.origin[e] : w.origin[chars.length]]);
      out.special.push(false);
    }
  }
}
