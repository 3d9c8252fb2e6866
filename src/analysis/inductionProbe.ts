// The repeated-sequence probe of induction heads (Olsson et al. 2022): random tokens shown twice,
// so that every token of the second copy occurred once before, the copy's length back, and an
// induction head's attention goes to the token after that occurrence.
import { seededUniform } from './seededRandom';

/** Tokens in each copy unless asked otherwise: short enough for most models' positions twice over. */
export const PROBE_LENGTH = 50;

/** The probe as asked for: the length of each copy and the seed of the draw. */
export interface ProbeOptions {
  length: number;
  seed: number;
}

/** The probe as it ran: each copy's length (fitted to the model), the seed, the token before the copies. */
export interface RepeatedTokensProbe extends ProbeOptions {
  bosId: number | null;
}

/**
 * `length` distinct ids drawn from [0, vocabSize) less `excluded` (a partial Fisher-Yates
 * shuffle), then the same ids again, after `bosId` when there is one. Distinct ids keep every
 * earlier occurrence exactly one copy back.
 */
export function repeatedRandomIds(probe: RepeatedTokensProbe, vocabSize: number, excluded: ReadonlySet<number>): number[] {
  const pool = new Int32Array(vocabSize);
  let size = 0;
  for (let id = 0; id < vocabSize; id++) if (!excluded.has(id)) pool[size++] = id;
  if (probe.length > size) throw new RangeError(`the probe needs ${probe.length} distinct ids; the vocabulary has ${size}`);
  const next = seededUniform(probe.seed);
  for (let i = 0; i < probe.length; i++) {
    const j = i + Math.floor(next() * (size - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const copy = Array.from(pool.subarray(0, probe.length));
  return [...(probe.bosId === null ? [] : [probe.bosId]), ...copy, ...copy];
}
