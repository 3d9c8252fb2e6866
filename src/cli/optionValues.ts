// Option values of the command line, checked: each refusal names the option and what it takes.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXECUTION_PROVIDER_CHOICES, ExecutionProviderChoice } from '../model/executionProviders';
import { InputError } from '../model/inputError';

type OptionKinds = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;

/**
 * The options of a command line, parsed by node:util's parseArgs with two differences: a value
 * that starts with a dash (a negative number) is taken as the value of the option before it
 * instead of an ambiguity, and every refusal is one line naming the option.
 */
export function parsedOptions<T extends OptionKinds>(argv: string[], options: T): ReturnType<typeof parseArgs<{ args: string[]; options: T }>>['values'] {
  const takesValue = (arg: string): boolean => arg.startsWith('--') && !arg.includes('=') && options[arg.slice(2)]?.type === 'string';
  const isOption = (arg: string): boolean => /^--[a-z]/i.test(arg) || /^-[a-z]$/i.test(arg);
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (takesValue(argv[i]) && next !== undefined && next.startsWith('-') && !isOption(next)) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options }).values;
  } catch (e) {
    throw new InputError((e as Error).message.split('\n')[0]);
  }
}

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

/** --ep: one of the execution provider choices. */
export function providerOption(value: string): ExecutionProviderChoice {
  const ep = value as ExecutionProviderChoice;
  if (!EXECUTION_PROVIDER_CHOICES.includes(ep)) throw new InputError(`--ep must be one of ${EXECUTION_PROVIDER_CHOICES.join(', ')}, not '${value}'`);
  return ep;
}

/** --timeout: seconds from 1 to a day (a timer beyond 2^31 ms fires at once), in milliseconds. */
export function timeoutMsOption(value: string): number {
  const seconds = Number(value);
  if (!(seconds >= 1 && seconds <= 86_400)) throw new InputError(`--timeout takes seconds from 1 to 86400 (a day), not '${value}'`);
  return seconds * 1000;
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

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A size such as 8GiB, 512 MiB, 2GB or a number of bytes. */
export function bytesOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || !(Number(m[1]) > 0)) throw new InputError(`--${name} takes a size such as 8GiB, 512MiB or 2GB, not '${value}'`);
  return Math.round(Number(m[1]) * unit);
}
