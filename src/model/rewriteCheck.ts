// A fused node rewritten into standard ops must compute what the fused kernel computes: the
// rewritten graph's model outputs are compared with the original graph's for the same feeds,
// and attention that is not the model's is never shown.
import { InputError } from './inputError';
import { OrtFeeds, OrtSession, OrtTensor, tensorFloats } from './ortSession';

// largest difference allowed, relative to the output's largest magnitude
const TOLERANCE = { float32: 1e-4, float16: 1e-2 } as const;

export interface OutputDifference {
  output: string;
  maxAbsDiff: number;
  /** maxAbsDiff over the reference output's largest magnitude */
  relative: number;
  tolerance: number;
}

/** The first model output on which the rewritten graph differs from the original beyond tolerance. */
export function outputMismatch(reference: Record<string, OrtTensor>, rewritten: Record<string, OrtTensor>, outputs: readonly string[]): OutputDifference | undefined {
  for (const output of outputs) {
    const ref = reference[output];
    const got = rewritten[output];
    if (!ref || !got || ref.type === 'string') continue;
    if (ref.type === 'bool' || /int/.test(ref.type)) {
      // ids and flags are exact, or different
      const x = ref.data as ArrayLike<unknown>;
      const y = got.data as ArrayLike<unknown>;
      let same = x.length === y.length;
      for (let i = 0; same && i < x.length; i++) same = x[i] === y[i];
      if (!same) return { output, maxAbsDiff: Infinity, relative: Infinity, tolerance: 0 };
      continue;
    }
    const tolerance = ref.type === 'float16' ? TOLERANCE.float16 : TOLERANCE.float32;
    const a = tensorFloats(ref);
    const b = tensorFloats(got);
    if (a.length !== b.length) return { output, maxAbsDiff: Infinity, relative: Infinity, tolerance };
    let largest = 0;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) {
        // a masked score (-inf) or a NaN is the model's own where both graphs give it, a difference where one does
        if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) diff = Infinity;
        continue;
      }
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      largest = Math.max(largest, Math.abs(a[i]));
    }
    const relative = diff / Math.max(largest, 1e-30);
    if (relative > tolerance) return { output, maxAbsDiff: diff, relative, tolerance };
  }
  return undefined;
}

/** Runs the original graph on the feeds of a rewritten run and refuses the rewrite when their outputs differ. */
export async function checkedRewrite(original: OrtSession, rewritten: Record<string, OrtTensor>, feeds: OrtFeeds, outputs: readonly string[], nodes: readonly string[]): Promise<void> {
  const reference = await original.run(feeds, [...outputs]);
  const mismatch = outputMismatch(reference, rewritten, outputs);
  if (!mismatch) return;
  throw new InputError(
    `the rewrite of fused attention node${nodes.length > 1 ? 's' : ''} ${nodes.map((n) => `'${n}'`).join(', ')} into standard operators does not reproduce the model: ` +
      `output '${mismatch.output}' differs by ${mismatch.maxAbsDiff.toPrecision(3)} (${mismatch.relative.toPrecision(3)} of its largest value, ` +
      `more than ${mismatch.tolerance}); its attention is not shown, since it would not be the model's`,
  );
}
