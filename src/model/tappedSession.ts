// The ONNX Runtime session of a model's tapped copy, its external weights carried along.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { InputError } from './inputError';
import type { ModelFiles } from './modelFiles';
import { ModelRewrite, OnnxModel, rewrittenModelBytes } from './onnxGraph';
import { ExecutionProviderChoice } from './executionProviders';
import { SessionWithProvider, createSession } from './ortSession';

// ONNX Runtime resolves external data next to the model file and refuses paths that lead
// elsewhere (symbolic links included), so the tapped copy carries those weights inline. That
// holds below protobuf's 2 GiB limit; larger models are written beside the original for the
// moment the session is created, then removed.
const INLINE_LIMIT_BYTES = 1.9 * 1024 ** 3;

export async function tappedSession(
  files: ModelFiles,
  model: OnnxModel,
  rewrite: ModelRewrite,
  choice: ExecutionProviderChoice,
): Promise<SessionWithProvider> {
  const external = [...model.initializers.values()].filter((i) => i.external);
  if (external.length === 0) return createSession(rewrittenModelBytes(model, rewrite), choice);
  const dir = dirname(files.modelPath);
  const fileOf = (loc: string, owner: string): string => {
    const rel = normalize(loc);
    if (isAbsolute(rel) || rel.startsWith('..')) throw new InputError(`external data file '${loc}' lies outside the model's folder`);
    const path = join(dir, rel);
    if (!existsSync(path)) throw new InputError(`external data file '${loc}' (weights of '${owner}') is missing beside ${basename(files.modelPath)}`);
    return path;
  };
  const paths = new Map(external.map((i) => [i.name, fileOf(i.external!.location, i.name)]));
  const total = model.bytes.length + [...new Set(paths.values())].reduce((s, p) => s + statSync(p).size, 0);
  if (total < INLINE_LIMIT_BYTES) {
    const inlineData = new Map<string, Uint8Array>();
    const opened = new Map<string, Buffer>();
    for (const init of external) {
      const path = paths.get(init.name)!;
      const file = opened.get(path) ?? readFileSync(path);
      opened.set(path, file);
      const { offsetBytes, lengthBytes } = init.external!;
      const end = lengthBytes === undefined ? file.length : offsetBytes + lengthBytes;
      if (end > file.length) throw new InputError(`external data file '${init.external!.location}' is shorter than the weights of '${init.name}' need: truncated?`);
      inlineData.set(init.name, file.subarray(offsetBytes, end));
    }
    return createSession(rewrittenModelBytes(model, { ...rewrite, inlineData }), choice);
  }
  const beside = join(dir, `.attention-lens-${process.pid}-${basename(files.modelPath)}`);
  writeFileSync(beside, rewrittenModelBytes(model, rewrite));
  try {
    return await createSession(beside, choice);
  } finally {
    rmSync(beside, { force: true });
  }
}
