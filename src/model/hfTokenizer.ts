// Hugging Face tokenizer.json through @huggingface/tokenizers. That library returns no
// character offsets, so each token's text is found again in the input, compared the way
// tokenizers normalise (case and accents folded).
import { Tokenizer } from '@huggingface/tokenizers';
import { InputError } from './inputError';
import { TextTokenizer, TokenizedText, specialTokenName } from './tokenizerTypes';

interface TokenizerJson {
  model?: { vocab?: Record<string, number> | [string, number][] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  post_processor?: unknown;
}

/** Text folded for matching, with the original offset of every folded UTF-16 unit. */
function folded(text: string): { text: string; origin: number[] } {
  let out = '';
  const origin: number[] = [];
  let i = 0;
  for (const ch of text) {
    const f = ch.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    for (let k = 0; k < f.length; k++) origin.push(i);
    out += f;
    i += ch.length;
  }
  origin.push(i);
  return { text: out, origin };
}

// Byte-level BPE shows a space as 'Ġ', SentencePiece as '▁', WordPiece continuations as '##'.
function surfaceOfPiece(piece: string): string {
  return piece.replace(/^##/, '').replace(/[Ġ▁]/g, ' ').replace(/Ċ/g, '\n').trim();
}

export class HfTokenizer implements TextTokenizer {
  readonly kind = 'tokenizer.json';
  readonly vocabSize: number;
  readonly addsSpecialTokens: boolean;
  readonly padId: number;
  readonly specialIds: ReadonlySet<number>;
  readonly bosId: number | undefined;
  private readonly tokenizer: Tokenizer;

  constructor(jsonText: string, configText?: string) {
    let json: TokenizerJson;
    let config: Record<string, unknown> = {};
    try {
      json = JSON.parse(jsonText) as TokenizerJson;
      if (configText) config = JSON.parse(configText) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(`tokenizer.json is not valid JSON: ${(e as Error).message}`);
    }
    try {
      this.tokenizer = new Tokenizer(json, config);
    } catch (e) {
      throw new InputError(`tokenizer.json could not be loaded: ${(e as Error).message}`);
    }
    const vocab = json.model?.vocab;
    let maxId = -1;
    if (Array.isArray(vocab)) maxId = vocab.length - 1;
    else if (vocab) for (const id of Object.values(vocab)) maxId = Math.max(maxId, id);
    for (const t of json.added_tokens ?? []) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;
    this.specialIds = new Set((json.added_tokens ?? []).filter((t) => t.special).map((t) => t.id));
    this.addsSpecialTokens = this.tokenizer.encode('a').ids.length > this.tokenizer.encode('a', { add_special_tokens: false }).ids.length;
    const pad = (json.added_tokens ?? []).find((t) => /^(\[PAD\]|<pad>|<\|pad\|>)$/.test(t.content));
    this.padId = pad?.id ?? 0;
    // tokenizer_config.json names its BOS (GPT-2's, Llama's) or, for BERT, its [CLS]
    const bos = specialTokenName(config.bos_token) ?? specialTokenName(config.cls_token);
    this.bosId = bos === undefined ? undefined : this.tokenizer.token_to_id(bos);
  }

  idToToken(id: number): string {
    return this.tokenizer.id_to_token(id) ?? `[${id}]`;
  }

  encode(text: string): TokenizedText {
    const enc = this.tokenizer.encode(text);
    const ids = enc.ids.map(Number);
    const f = folded(text);
    const out: TokenizedText = { tokens: [], ids, offsets: [], special: [] };
    let cursor = 0; // in folded units
    for (const id of ids) {
      const piece = this.idToToken(id);
      out.tokens.push(piece);
      const special = this.specialIds.has(id);
      out.special.push(special);
      // a special token written in the text ([MASK], <|endoftext|>) is found as written
      const written = special ? text.indexOf(piece, f.origin[Math.min(cursor, f.text.length)]) : -1;
      if (written >= 0 && written - f.origin[Math.min(cursor, f.text.length)] <= 8) {
        out.offsets.push([written, written + piece.length]);
        while (cursor < f.text.length && f.origin[cursor] < written + piece.length) cursor++;
        continue;
      }
      const surface = special ? '' : folded(surfaceOfPiece(this.decodedPiece(id, piece))).text;
      const at = surface ? f.text.indexOf(surface, cursor) : -1;
      // a piece is looked for near the cursor only: far matches are other words
      if (at >= 0 && at - cursor <= 8 + surface.length) {
        out.offsets.push([f.origin[at], f.origin[at + surface.length]]);
        cursor = at + surface.length;
      } else {
        const here = f.origin[Math.min(cursor, f.text.length)];
        out.offsets.push([here, here]);
      }
    }
    return out;
  }

  // Byte-level pieces are mapped to text by the tokenizer's decoder; others are their own text.
  private decodedPiece(id: number, piece: string): string {
    if (!/[ĠĊ]/.test(piece) && !/[^\x20-\x7e▁]/.test(piece)) return piece;
    return this.tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}
