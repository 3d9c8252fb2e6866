// The one way the tool opens a file a user names or a model points to: it must be a regular file
// (a FIFO would block forever, /dev/zero never ends), of a size within its kind's limit, and,
// for the files beside a model, inside the model's folder once links are resolved, except for
// the Hugging Face cache's layout (a snapshot's files are links into its repository's blobs/).
// Every failure is one line naming the file.
import { Stats, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './inputError';

export type UserFileKind = 'model' | 'weights' | 'tokenizer' | 'config' | 'text' | 'corpus' | 'features';

const MIB = 2 ** 20;
/** The largest file of each kind read whole; models and weights are bounded by what they declare and by memory. */
const USER_FILE_LIMIT_BYTES: Record<UserFileKind, number> = {
  model: Number.POSITIVE_INFINITY,
  weights: Number.POSITIVE_INFINITY,
  tokenizer: 512 * MIB,
  config: 16 * MIB,
  text: 64 * MIB,
  corpus: 1024 * MIB,
  features: 1024 * MIB,
};

const KIND_NAMES: Record<UserFileKind, string> = { model: 'model', weights: 'external weights', tokenizer: 'tokenizer', config: 'config', text: 'text file', corpus: 'corpus file', features: 'features file' };

function what(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Whether a path lies in a folder (both as given: resolve links first where it matters). */
export const isInside = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/**
 * Whether a file's real path may be read for a model whose folder is `root`: inside the folder,
 * or in the blobs/ of the Hugging Face cache repository whose snapshot the folder is.
 */
function allowedTarget(root: string, real: string): boolean {
  const realRoot = realPath(root);
  if (isInside(realRoot, real)) return true;
  // <repo>/snapshots/<revision>[/onnx]: its links lead into <repo>/blobs, which must be that
  // folder itself (a blobs/ that is a link could lead anywhere)
  for (let dir = realRoot; dirname(dir) !== dir; dir = dirname(dir)) {
    if (basename(dirname(dir)) !== 'snapshots') continue;
    const blobs = join(dirname(dirname(dir)), 'blobs');
    return realPath(blobs) === blobs && isInside(blobs, real);
  }
  return false;
}

/** The real path and size of a user's file, checked for its kind (and, given the model's folder, its place). */
export function checkedUserFile(path: string, kind: UserFileKind, modelFolder?: string): { path: string; sizeBytes: number } {
  const name = `the ${KIND_NAMES[kind]} ${path}`;
  let st;
  let real: string;
  try {
    st = statSync(path);
    real = realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist (or is a link to nothing)' : code === 'ELOOP' ? 'is a loop of symbolic links' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be opened (${code ?? (e as Error).message})`;
    throw new InputError(`${name} ${why}`);
  }
  if (!st.isFile()) throw new InputError(`${name} is ${what(st)}, not a file`);
  if (st.size > USER_FILE_LIMIT_BYTES[kind]) throw new InputError(`${name} is ${(st.size / MIB).toFixed(0)} MiB, more than the ${(USER_FILE_LIMIT_BYTES[kind] / MIB).toFixed(0)} MiB a ${KIND_NAMES[kind]} may be`);
  if (modelFolder && !allowedTarget(modelFolder, real)) throw new InputError(`${name} leads outside the model's folder (to ${real}): a model reads only its own files`);
  return { path: real, sizeBytes: st.size };
}

/** A user's file, whole, after the checks of its kind. */
export function readUserFile(path: string, kind: UserFileKind, modelFolder?: string): Buffer {
  const { path: real } = checkedUserFile(path, kind, modelFolder);
  try {
    return readFileSync(real);
  } catch (e) {
    throw new InputError(`the ${KIND_NAMES[kind]} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A user's text file (UTF-8), after the checks of its kind. */
export function readUserText(path: string, kind: UserFileKind, modelFolder?: string): string {
  return readUserFile(path, kind, modelFolder).toString('utf8');
}

/** A path with its links resolved, or as given when it does not exist. */
export function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Writes a report whole or not at all: into a temporary file beside it, then renamed over it, so
 * that a full disk or a kill leaves the previous report as it was.
 */
export function writeAtomically(path: string, content: string): void {
  const temporary = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw new InputError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
