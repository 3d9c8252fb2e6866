// Option values of the command line, checked: each refusal names the option and what it takes.
import { InputError } from '../model/inputError';

export function numberList(s: string, what: string): number[] {
  const values = s.split(',').map((x) => Number(x.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 0)) throw new InputError(`--${what} takes comma-separated non-negative integers, not '${s}'`);
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
