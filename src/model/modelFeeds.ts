// What a model is fed for one run, input by input, from the role each input plays: the ids and
// their mask, positions, a cache (given, or empty), a static cache's write index and length, a
// merged decoder's branch, an encoder-decoder's target or encoder output, and seeded values for
// the inputs of a block that take no ids.
import { seededNormals } from '../analysis/seededRandom';
import { InputError } from './inputError';
import { InputPlan, InputRole, PlannedInput, concreteDims } from './modelInputs';
import { OrtFeeds, OrtTensor, boolTensor, floatTensor, intTensor, zeroTensor } from './ortSession';

/** What an encoder-decoder's run takes besides the ids: the target (a graph of both), or the encoder's output (its decoder). */
export interface Seq2SeqFeeds {
  target?: number[];
  encoderStates?: OrtTensor;
  /** an audio encoder's log-mel features [1, mels, frames] */
  features?: OrtTensor;
}

/** Feeds for one run: `ids` at positions past.., padded to padTo with padId; the cache given or empty. */
export function modelFeeds(plan: InputPlan, padId: number, ids: number[], padTo: number, past: number, cache: Map<string, OrtTensor>, seq: Seq2SeqFeeds = {}): OrtFeeds {
  const feeds: OrtFeeds = {};
  const n = ids.length;
  const source = seq.encoderStates ? Number(seq.encoderStates.dims[1]) : n;
  const target = seq.target?.length ?? 0;
  // how many values each role is fed: its declared shape, made concrete, must hold exactly as many
  const given: Partial<Record<InputRole, number>> = { ids: padTo, mask: past + padTo, tokenType: padTo, position: padTo, writeIndex: 1, kvLength: 1, cacheBranch: 1, targetIds: target, targetMask: target, encoderMask: source };
  for (const input of plan.inputs) {
    const dims = concreteDims(input, plan, padTo, past, { source, target: seq.target?.length });
    if (input.role !== 'encoderStates' && input.role !== 'features') checkFedDims(input, dims, given[input.role]);
    const type = input.type === 'int32' ? 'int32' : 'int64';
    switch (input.role) {
      case 'ids':
        feeds[input.name] = intTensor(type, [...ids, ...Array(padTo - n).fill(padId)], dims);
        break;
      case 'mask':
        feeds[input.name] = intTensor(type, [...Array(past + n).fill(1), ...Array(padTo - n).fill(0)], dims);
        break;
      case 'tokenType':
        feeds[input.name] = intTensor(type, Array(padTo).fill(0), dims);
        break;
      case 'position':
        feeds[input.name] = intTensor(type, Array.from({ length: padTo }, (_, i) => past + i), dims);
        break;
      case 'past':
        feeds[input.name] = cache.get(input.name) ?? zeroTensor(input.type, dims);
        break;
      case 'writeIndex':
        feeds[input.name] = intTensor(type, [past], dims);
        break;
      case 'kvLength':
        feeds[input.name] = intTensor(type, [past + n], dims);
        break;
      case 'cacheBranch':
        feeds[input.name] = boolTensor([past > 0], dims);
        break;
      case 'targetIds':
        feeds[input.name] = intTensor(type, seq.target ?? [], dims);
        break;
      case 'targetMask':
        feeds[input.name] = intTensor(type, Array(seq.target?.length ?? 0).fill(1), dims);
        break;
      case 'encoderMask':
        feeds[input.name] = intTensor(type, Array(source).fill(1), dims);
        break;
      case 'encoderStates':
        feeds[input.name] = seq.encoderStates!;
        break;
      case 'features':
        feeds[input.name] = seq.features!;
        break;
      case 'hidden':
      case 'weight':
        feeds[input.name] = syntheticInput(input, dims);
        break;
    }
  }
  return feeds;
}

/** The most values a made-up input (a cache, hidden states, weights) may hold: 1 GiB of float32. */
const MAX_FED_ELEMENTS = 2 ** 28;

/** Refuses an input whose concrete shape does not hold the `count` values it is fed, or (made up) holds too many. */
function checkFedDims(input: PlannedInput, dims: number[], count: number | undefined): void {
  const elements = dims.reduce((a, b) => a * b, 1);
  if (count === undefined ? elements <= MAX_FED_ELEMENTS : elements === count) return;
  const declared = `the model's input ${input.name} is declared [${input.shape.join(', ')}]`;
  if (count === undefined) throw new InputError(`${declared}: fed as [${dims.join(', ')}] it would hold ${elements} values, more than the ${MAX_FED_ELEMENTS} an input made up by Attention Lens may hold`);
  throw new InputError(`${declared}: fed as [${dims.join(', ')}] (batch 1) it holds ${elements} values, not the ${count} of its ${input.role} input: the shape does not fit what this input is for`);
}

function syntheticInput(input: PlannedInput, dims: number[]): OrtTensor {
  const count = dims.reduce((a, b) => a * b, 1);
  // weights scaled by 1/sqrt(fan-in) keep activations of order one, as in a trained block
  const scale = input.role === 'weight' && dims.length >= 2 ? 1 / Math.sqrt(dims[0]) : input.role === 'weight' ? 0.02 : 1;
  const values = seededNormals(count, input.name);
  for (let i = 0; i < count; i++) values[i] *= scale;
  return floatTensor(values, dims);
}
