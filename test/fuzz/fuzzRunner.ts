// Runs fuzz cases as command lines, a few at a time, and classes each outcome: refused (exit 2
// with one line), ok (exit 0 with a valid result), or bad: a hang past the time limit, memory
// past the bound, another exit code, more than one line, a stack trace, an invalid result, a
// file written (or removed) in the case's folder outside the output paths, or (traced with
// strace, where asked and available) a file opened for writing outside them, or a file outside
// the model's folder opened at all.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CLI } from '../helpers/paths';
import { FuzzBase, FuzzCase, fuzzBase, fuzzCase } from './fuzzCases';

export const GOOD_OUTCOMES = ['refused', 'ok'] as const;
export const BAD_OUTCOMES = ['hang', 'memory', 'exitCode', 'lines', 'stackTrace', 'invalidResult', 'strayWrite', 'readOutside'] as const;
export type Outcome = (typeof GOOD_OUTCOMES)[number] | (typeof BAD_OUTCOMES)[number];

export interface CaseResult {
  fuzz: FuzzCase;
  outcome: Outcome;
  detail: string;
  peakRssBytes: number;
}

export interface FuzzRun {
  seed: number;
  indices: number[];
  /** concurrent command lines */
  workers: number;
  timeoutMs: number;
  /** the most resident memory a case's processes may hold together */
  memoryBytes: number;
  /** run each command under strace -ff where it is installed, to see every file it opens */
  trace?: boolean;
}

const STRACE = '/usr/bin/strace';
// Where a run opens files for writing besides its outputs: devices, and ONNX Runtime's and Node's own
const WRITABLE_ELSEWHERE = /^\/(dev|proc|sys)\//;

/** What a trace says the command opened that it must not have: a write outside the outputs, a read of a forbidden file. */
function tracedProblem(trace: string, c: FuzzCase): { outcome: 'strayWrite' | 'readOutside'; detail: string } | undefined {
  for (const m of trace.matchAll(/open(?:at2?)?\((?:AT_FDCWD|\d+), "([^"]*)", ([A-Z_|]+)[^)]*\) = (\d+)/g)) {
    const [, path, flags] = m;
    // an atomic write's temporary file lies beside its output: .NAME.PID.tmp
    const output = c.outputs.some((o) => isOutput(path, [o]) || (path.startsWith(`${dirname(o)}/.${basename(o)}.`) && path.endsWith('.tmp')));
    if (/O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(flags) && !output && !WRITABLE_ELSEWHERE.test(path)) return { outcome: 'strayWrite', detail: `opened ${path} (${flags})` };
    if (c.forbidden.includes(path)) return { outcome: 'readOutside', detail: `opened ${path} (${flags})` };
  }
  return undefined;
}

const PAGE_BYTES = 4096;

/** Resident bytes of a process and its descendants, where Linux tells (0 for a process gone). */
function treeRssBytes(pid: number): number {
  let sum = 0;
  try {
    sum += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) sum += treeRssBytes(Number(child));
  } catch {
    // the process ended between two reads
  }
  return sum;
}

/** Every path under a folder with its kind, size and modification time (links not followed). */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = lstatSync(path);
      out.set(path, `${st.mode}:${st.isDirectory() ? 0 : st.size}:${st.mtimeMs}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out;
}

const isOutput = (path: string, outputs: string[]): boolean => outputs.some((o) => path === o || path.startsWith(`${o}/`));
const STACK_TRACE = /^\s+at .+(\(|:\d+:\d+)|node:internal|^\w*Error: .*\n\s+at /m;

/** Whether a successful run left a valid result: its JSON report (or the specimen's files). */
function resultProblem(c: FuzzCase, stdout: string): string | undefined {
  const option = (name: string): string | undefined => {
    const i = c.args.indexOf(`--${name}`);
    return i >= 0 ? c.args[i + 1] : c.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  try {
    if (c.args[0] === 'specimen') return existsSync(join(option('out')!, 'model.onnx')) ? undefined : 'no model.onnx written';
    const json = option('json');
    const report = JSON.parse(json ? readFileSync(json, 'utf8') : stdout) as Record<string, unknown>;
    const html = option('html');
    if (html && !readFileSync(html, 'utf8').trimStart().toLowerCase().startsWith('<!doctype html>')) return `${html} is not an HTML report`;
    const fields = c.args[0] === 'memory' ? ['dense', 'methods'] : ['model'];
    const missing = fields.find((f) => !(f in report));
    return missing ? `the report has no ${missing}` : undefined;
  } catch (e) {
    return `no valid report: ${(e as Error).message.slice(0, 200)}`;
  }
}

function runCase(c: FuzzCase, dir: string, home: string, traceFile: string, run: FuzzRun): Promise<CaseResult> {
  const before = listing(dir);
  const command = [process.execPath, CLI, ...c.args];
  const traced = run.trace && existsSync(STRACE) ? [STRACE, '-ff', '-qq', '-e', 'trace=open,openat,openat2', '-o', traceFile, ...command] : command;
  return new Promise((done) => {
    const child = spawn(traced[0], traced.slice(1), { cwd: dir, env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let peakRssBytes = 0;
    let killed: 'hang' | 'memory' | undefined;
    const kill = (why: 'hang' | 'memory'): void => {
      killed ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    child.stdout.on('data', (d: Buffer) => void (stdout.length < 2 ** 26 && (stdout += d.toString())));
    child.stderr.on('data', (d: Buffer) => void (stderr.length < 2 ** 20 && (stderr += d.toString())));
    const watch = setInterval(() => {
      peakRssBytes = Math.max(peakRssBytes, treeRssBytes(child.pid!));
      if (peakRssBytes > run.memoryBytes) kill('memory');
    }, 100);
    const timer = setTimeout(() => kill('hang'), run.timeoutMs);
    child.on('close', (code) => {
      clearInterval(watch);
      clearTimeout(timer);
      // the engine is in the command's process group: nothing of the case outlives it
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // none left
      }
      const result = (outcome: Outcome, detail = ''): void => done({ fuzz: c, outcome, detail, peakRssBytes });
      if (killed) return result(killed, killed === 'hang' ? `still running after ${run.timeoutMs} ms` : `${(peakRssBytes / 2 ** 20).toFixed(0)} MiB resident`);
      const after = listing(dir);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p) && !isOutput(p, c.outputs));
      const homeFiles = readdirSync(home);
      if (changed.length || homeFiles.length) return result('strayWrite', [...changed, ...homeFiles.map((f) => join(home, f))].slice(0, 5).join(', '));
      // one trace per thread (-ff): no call is split between two lines
      const traces = readdirSync(dirname(traceFile)).filter((f) => f.startsWith(`${basename(traceFile)}.`));
      const opened = traces.map((f) => tracedProblem(readFileSync(join(dirname(traceFile), f), 'utf8'), c)).find(Boolean);
      if (opened) return result(opened.outcome, opened.detail);
      if (STACK_TRACE.test(stderr)) return result('stackTrace', stderr.slice(0, 500));
      if (code === 2) {
        const lines = stderr.trim().split('\n');
        return lines.length === 1 && lines[0].startsWith('attention-lens: ') ? result('refused', lines[0]) : result('lines', stderr.slice(0, 500));
      }
      if (code !== 0) return result('exitCode', `exit ${code}: ${stderr.slice(0, 500)}`);
      const problem = resultProblem(c, stdout);
      return problem ? result('invalidResult', problem) : result('ok');
    });
  });
}

/** Runs the cases of `run.indices`, `run.workers` at a time, each in a fresh folder; the folders go afterwards. */
export async function runFuzz(run: FuzzRun, onResult?: (r: CaseResult, done: number) => void): Promise<CaseResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'attention-lens-fuzz-'));
  const base: FuzzBase = fuzzBase();
  const results: CaseResult[] = [];
  const queue = [...run.indices];
  const worker = async (): Promise<void> => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      const dir = join(root, `case-${index}`);
      const home = join(root, `home-${index}`);
      mkdirSync(dir);
      mkdirSync(home);
      const c = fuzzCase(run.seed, index, dir, base);
      const traceFile = join(root, `trace-${index}`);
      const r = await runCase(c, dir, home, traceFile, run);
      results.push(r);
      onResult?.(r, results.length);
      for (const path of [dir, home, ...readdirSync(root).filter((f) => f.startsWith(`trace-${index}.`)).map((f) => join(root, f))]) rmSync(path, { recursive: true, force: true });
    }
  };
  try {
    await Promise.all(Array.from({ length: run.workers }, worker));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return results.sort((a, b) => a.fuzz.index - b.fuzz.index);
}

/** The summary: cases, outcomes by class and by category, and every bad outcome with its case. */
export function fuzzSummary(run: FuzzRun, results: CaseResult[], seconds: number): string {
  const count = (rs: CaseResult[]): string => {
    const by = new Map<Outcome, number>();
    for (const r of rs) by.set(r.outcome, (by.get(r.outcome) ?? 0) + 1);
    return [...by].map(([o, n]) => `${o} ${n}`).join(', ');
  };
  const categories = [...new Set(results.map((r) => r.fuzz.category))];
  const bad = results.filter((r) => (BAD_OUTCOMES as readonly string[]).includes(r.outcome));
  const peak = Math.max(0, ...results.map((r) => r.peakRssBytes));
  return [
    `fuzz: seed ${run.seed}, ${results.length} cases in ${seconds.toFixed(0)} s (${run.workers} at a time, ${run.timeoutMs / 1000} s and ${(run.memoryBytes / 2 ** 20).toFixed(0)} MiB each at most${run.trace && existsSync(STRACE) ? ', every file opened traced' : ''})`,
    `outcomes: ${count(results)} (refused: exit 2 with one line; ok: exit 0 with a valid report)`,
    ...categories.map((c) => `  ${c}: ${count(results.filter((r) => r.fuzz.category === c))}`),
    `largest resident memory of a case: ${(peak / 2 ** 20).toFixed(0)} MiB`,
    `bad outcomes: ${bad.length}`,
    ...bad.map((r) => `  case ${r.fuzz.index} (${r.fuzz.category}, ${r.fuzz.what}): ${r.outcome}: ${r.detail.replace(/\n/g, ' | ')}\n    attention-lens ${r.fuzz.args.map((a) => JSON.stringify(a)).join(' ')}`),
  ].join('\n');
}
