// The ONNX Runtime session of a model's tapped copy, its external weights carried along.
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { InputError } from './inputError';
import type { ModelFiles } from './modelFiles';
import { ModelRewrite, OnnxModel, rewrittenModelBytes } from './onnxGraph';
import type { ProviderRun } from './executionProviders';
import { ProfilingOptions, SessionWithProvider, createSession } from './ortSession';
import { checkedUserFile, readUserFile } from './userFiles';

// ONNX Runtime resolves external data next to the model file and refuses paths that lead
// elsewhere (symbolic links included), so the tapped copy carries those weights inline. That
// holds below protobuf's 2 GiB limit; larger models go to ONNX Runtime as the tapped graph's
// bytes with the folder their weights lie in, which it reads in place: nothing is written, so
// a read-only model folder loads and a killed engine leaves nothing behind.
const INLINE_LIMIT_BYTES = 1.9 * 1024 ** 3;

/** `inlineLimitBytes`: the size up to which weights are inlined (smaller only in tests, to reach the other path); `profiling`: the memory profiler's tapped pass. */
export async function tappedSession(
  files: ModelFiles,
  model: OnnxModel,
  rewrite: ModelRewrite,
  run: ProviderRun,
  inlineLimitBytes = INLINE_LIMIT_BYTES,
  profiling?: ProfilingOptions,
): Promise<SessionWithProvider> {
  const external = [...model.initializers.values()].filter((i) => i.external);
  if (external.length === 0) return createSession(rewrittenModelBytes(model, rewrite), run, profiling);
  const dir = dirname(files.modelPath);
  // each weights file: a regular file in the model's folder (links resolved; the Hugging Face
  // cache's blobs allowed), and each tensor's bytes within it
  const fileOf = (loc: string, owner: string): { path: string; sizeBytes: number } => {
    const rel = normalize(loc);
    if (isAbsolute(rel) || rel.startsWith('..')) throw new InputError(`external data file '${loc}' lies outside the model's folder`);
    const path = join(dir, rel);
    if (!existsSync(path)) throw new InputError(`external data file '${loc}' (weights of '${owner}') is missing beside ${basename(files.modelPath)}`);
    return checkedUserFile(path, 'weights', files.root);
  };
  const found = new Map(external.map((i) => [i.name, fileOf(i.external!.location, i.name)]));
  for (const init of external) {
    const { offsetBytes, lengthBytes, location } = init.external!;
    const size = found.get(init.name)!.sizeBytes;
    const valid = (v: number | undefined): boolean => v === undefined || (Number.isSafeInteger(v) && v >= 0);
    if (!valid(offsetBytes) || !valid(lengthBytes)) throw new InputError(`the weights of '${init.name}' have an offset or length in '${location}' that is not a whole number of bytes (${offsetBytes}, ${lengthBytes})`);
    if (offsetBytes + (lengthBytes ?? 0) > size) throw new InputError(`external data file '${location}' (${size} bytes) is shorter than the weights of '${init.name}' need (bytes ${offsetBytes} to ${offsetBytes + (lengthBytes ?? 0)}): truncated?`);
  }
  const total = model.bytes.length + [...new Map([...found.values()].map((f) => [f.path, f.sizeBytes])).values()].reduce((s, b) => s + b, 0);
  if (total < inlineLimitBytes) {
    const inlineData = new Map<string, Uint8Array>();
    const opened = new Map<string, Buffer>();
    for (const init of external) {
      const { path } = found.get(init.name)!;
      const file = opened.get(path) ?? readUserFile(path, 'weights');
      opened.set(path, file);
      const { offsetBytes, lengthBytes } = init.external!;
      inlineData.set(init.name, file.subarray(offsetBytes, lengthBytes === undefined ? file.length : offsetBytes + lengthBytes));
    }
    return createSession(rewrittenModelBytes(model, { ...rewrite, inlineData }), run, profiling);
  }
  return createSession({ bytes: rewrittenModelBytes(model, rewrite), externalDataFolder: dir }, run, profiling);
}
