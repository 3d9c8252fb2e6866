// Option values of the command line, checked: each refusal names the option and what it takes.
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../model/inputError';

/** Comma-separated whole numbers of at least 0 (an empty item is not 0: it is refused). */
export function numberList(s: string, what: string): number[] {
  const items = s.split(',').map((x) => x.trim());
  const values = items.map(Number);
  if (items.some((x) => !/^\d+$/.test(x)) || values.some((v) => !Number.isSafeInteger(v))) throw new InputError(`--${what} takes comma-separated non-negative integers, not '${s}'`);
  return values;
}

export function headOption(s: string): { layer: number; head: number } {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) throw new InputError(`--head takes LAYER:HEAD, such as 1:3, not '${s}'`);
  return { layer: Number(m[1]), head: Number(m[2]) };
}

export function positiveOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isInteger(v) || v <= 0) throw new InputError(`--${name} takes a positive whole number, not '${value}'`);
  return v;
}

/** An output path, checked before any work: a file (or none yet) in a folder that exists. */
export function outputPath(path: string | undefined, option: string): string | undefined {
  if (path === undefined) return undefined;
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new InputError(`--${option} ${path} is a folder: name the file to write`);
  if (st && !st.isFile()) throw new InputError(`--${option} ${path} is not a regular file`);
  const folder = statSync(dirname(resolve(path)), { throwIfNoEntry: false });
  if (!folder?.isDirectory()) throw new InputError(`--${option} ${path}: the folder ${dirname(resolve(path))} does not exist`);
  return path;
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
