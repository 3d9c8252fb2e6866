// What each input of a model is for, from its name, type and shape in the model's metadata.
import { InputError } from './inputError';

export interface InputMetadata {
  name: string;
  type: string;
  shape: readonly (number | string)[];
}

export type InputRole =
  | 'ids'
  | 'mask'
  | 'tokenType'
  | 'position'
  | 'past'
  | 'hidden'
  | 'weight'
  | 'cacheBranch'
  | 'writeIndex'
  | 'kvLength'
  // an audio encoder's log-mel features (Whisper), given as a file
  | 'features'
  // an encoder-decoder's: the decoder's ids and mask in a graph of both, the encoder's output and mask in a decoder's
  | 'targetIds'
  | 'targetMask'
  | 'encoderStates'
  | 'encoderMask';

export interface PlannedInput extends InputMetadata {
  role: InputRole;
  /** for past inputs: the output that carries the cache forward */
  presentOutput?: string;
}

/** How tokens enter the model: all at once, padded to a fixed length, or one per run with a cache. */
export type SequenceMode = { kind: 'whole' } | { kind: 'fixed'; length: number } | { kind: 'stepwise' };

export interface InputPlan {
  inputs: PlannedInput[];
  mode: SequenceMode;
  hasPast: boolean;
  /** the symbolic name of the batch dimension */
  batchSymbol?: string;
}

const isInt = (t: string): boolean => t === 'int64' || t === 'int32';
const isFloat = (t: string): boolean => t === 'float32' || t === 'float16';

function presentName(past: string, outputs: readonly string[]): string | undefined {
  const candidates = [past.replace('past_key_values', 'present'), past.replace('past', 'present')];
  return candidates.find((c) => c !== past && outputs.includes(c));
}

/** The length of a static key/value cache: a past input whose every dimension but the batch is fixed. */
export function staticCacheLength(plan: InputPlan): number | undefined {
  const past = plan.inputs.find((i) => i.role === 'past');
  if (!past || past.shape.length !== 4 || past.shape.slice(1).some((d) => typeof d !== 'number')) return undefined;
  return past.shape[2] as number;
}

export function inputPlan(metadata: readonly InputMetadata[], outputNames: readonly string[]): InputPlan {
  const inputs: PlannedInput[] = [];
  const unknown: string[] = [];
  let ids: PlannedInput | undefined;
  for (const m of metadata) {
    const name = m.name.toLowerCase();
    let role: InputRole | undefined;
    if (isInt(m.type)) {
      if (/encoder_attention_mask/.test(name)) role = 'encoderMask';
      else if (/decoder_input_ids/.test(name)) role = 'targetIds';
      else if (/decoder_attention_mask/.test(name)) role = 'targetMask';
      else if (/mask/.test(name)) role = 'mask';
      // a static cache: where the new keys are written (a shared buffer's past_sequence_length), and how many of its rows are real
      else if (/write_ind|past_seq(uence)?_len/.test(name)) role = 'writeIndex';
      else if (/nonpad_kv_seqlen|kv_seqlen|kv_len/.test(name)) role = 'kvLength';
      else if (/token_type|segment/.test(name)) role = 'tokenType';
      else if (/position/.test(name)) role = 'position';
      else if (!ids && (/ids|^input/.test(name) || m.shape.length === 2)) role = 'ids';
    } else if (m.type === 'bool' && /use_cache/.test(name)) {
      // a merged decoder's choice of branch: with the cache or without it
      role = 'cacheBranch';
    } else if (isFloat(m.type)) {
      if (/^(encoder_hidden_states|encoder_outputs)$/.test(name) && m.shape.length === 3) role = 'encoderStates';
      else if (name === 'input_features' && m.shape.length === 3) role = 'features';
      else if (/past|cache/.test(name)) role = 'past';
      else if (m.shape.length === 3 && typeof m.shape[1] !== 'number') role = 'hidden';
      else if (m.shape.every((d) => typeof d === 'number')) role = 'weight';
    }
    if (!role) {
      unknown.push(`${m.name} (${m.type} [${m.shape.join(', ')}])`);
      continue;
    }
    const planned: PlannedInput = { ...m, role };
    if (role === 'past') {
      planned.presentOutput = presentName(m.name, outputNames);
    }
    if (role === 'ids') ids = planned;
    inputs.push(planned);
  }
  // a raw-audio or vision encoder: its input is not a text, and random values would not be one
  const media = metadata.find((m) => /^(input_values|pixel_values)$/.test(m.name.toLowerCase()));
  if (!ids && media) {
    const what = media.name.toLowerCase() === 'pixel_values' ? 'image pixels' : 'raw audio samples';
    throw new InputError(`the model's input ${media.name} takes ${what}, not token ids: Attention Lens analyses text models, and audio encoders that take log-mel features (input_features)`);
  }
  const features = inputs.find((i) => i.role === 'features');
  if (unknown.length) throw new InputError(`the model has inputs Attention Lens cannot fill: ${unknown.join('; ')}`);
  const embeds = inputs.find((i) => /inputs_embeds/.test(i.name.toLowerCase()));
  if (!ids && embeds) {
    throw new InputError(
      `the model's only text input is ${embeds.name}: its token embeddings are computed outside the graph, and random ones would not be a text. ` +
        'Export it with its embedding layer (an input_ids input)',
    );
  }
  // A block of a model (attention alone, as ONNX Runtime's tests hold them) takes hidden states
  // of a fixed length: with no token ids, a 3-D float input is that.
  if (!ids && !inputs.some((i) => i.role === 'hidden')) for (const i of inputs) if (i.role === 'weight' && i.shape.length === 3) i.role = 'hidden';
  const hidden = inputs.find((i) => i.role === 'hidden');
  if (!ids && !hidden && !features) throw new InputError('the model has no token-id input (an int32/int64 input such as input_ids) and no hidden-state input');
  const seqInput = ids ?? features ?? hidden!;
  const hasPast = inputs.some((i) => i.role === 'past');
  const seqDim = seqInput.shape[1];
  let mode: SequenceMode = { kind: 'whole' };
  // features carry their own length (frames), whatever their dims say
  if (typeof seqDim === 'number' && seqInput !== features) {
    if (seqDim === 1 && hasPast) mode = { kind: 'stepwise' };
    else if (seqDim >= 1) mode = { kind: 'fixed', length: seqDim };
  }
  const missingPresent = inputs.find((i) => i.role === 'past' && !i.presentOutput);
  if (mode.kind === 'stepwise' && missingPresent) {
    throw new InputError(`the model takes one token per run with a cache, but no output carries input ${missingPresent.name} forward`);
  }
  const batch = seqInput.shape[0];
  return { inputs, mode, hasPast, batchSymbol: typeof batch === 'string' ? batch : undefined };
}

/** The largest dimension an input may declare: a longer one is no sequence a tensor could hold. */
const MAX_DECLARED_DIM = 2 ** 24;

// Roles fed a single value (a flag, an index, a length): a scalar without a declared shape takes it.
const SCALAR_ROLES: ReadonlySet<InputRole> = new Set(['cacheBranch', 'writeIndex', 'kvLength']);

/**
 * Refuses, before any tensor is made, inputs whose declared shape cannot be fed: no shape where
 * the rank matters, a negative or zero dimension, or one beyond MAX_DECLARED_DIM. `declared`
 * are the graph's inputs as the file states them (ONNX Runtime reports a negative as dynamic).
 */
export function checkDeclaredShapes(plan: InputPlan, declared: readonly { name: string; dims?: (number | string | null)[] }[], what: string): void {
  for (const input of plan.inputs) {
    const dims = declared.find((d) => d.name === input.name)?.dims;
    if (!dims) {
      if (SCALAR_ROLES.has(input.role)) continue;
      throw new InputError(`${what}: its input ${input.name} declares no shape, so how to feed it is unknown (${input.role} inputs are [batch, sequence, ...]): export the model with its input shapes`);
    }
    // -1 is how some exporters write a dynamic dimension; a cache may be declared empty
    const bad = dims.find((d) => typeof d === 'number' && (d < -1 || (d === 0 && input.role !== 'past') || d > MAX_DECLARED_DIM));
    if (bad !== undefined) {
      const why = (bad as number) > MAX_DECLARED_DIM ? `more than the ${MAX_DECLARED_DIM} positions any input may have` : 'dimensions are positive';
      throw new InputError(`${what}: its input ${input.name} declares the dimension ${bad} ([${dims.map((d) => d ?? '?').join(', ')}]): ${why}`);
    }
  }
}

/** Concrete dims of an input: batch 1, the sequence and past lengths as given (an encoder-decoder's source and target where they differ), fixed dims kept. */
export function concreteDims(input: PlannedInput, plan: InputPlan, sequence: number, past: number, lengths: { source?: number; target?: number } = {}): number[] {
  return input.shape.map((d, axis) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (d === plan.batchSymbol || (axis === 0 && input.role !== 'past')) return 1;
    if (input.role === 'past') return past;
    if (input.role === 'encoderStates' || input.role === 'encoderMask') return lengths.source ?? sequence;
    if (input.role === 'targetIds' || input.role === 'targetMask') return lengths.target ?? sequence;
    if (input.role === 'mask' && plan.hasPast) return past + sequence;
    return sequence;
  });
}
