// The host side of the engine: starts the child process lazily, pairs requests with replies,
// and turns a timeout, a cancel or a crash into a rejected request and a fresh engine next time.
import { ChildProcess, fork } from 'node:child_process';
import type { AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { AttentionCapture } from '../analysis/attentionCapture';
import type { CaptureOptions, LoadOptions, ModelInfo } from '../model/capture';
import { EngineMethod, EngineMethods, EngineResponse, MEMORY_LIMIT_MARK, analysisFromWire, wireAnalysis } from './engineProtocol';

export type EngineErrorKind = 'input' | 'internal' | 'gone' | 'cancelled' | 'crashed' | 'timeout';

export class EngineError extends Error {
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface EngineClientOptions {
  /** the bundled engine script (dist/engine.js) */
  enginePath: string;
  /** a request that takes longer stops the engine */
  timeoutMs: number;
  /** the heap of the engine's JavaScript; tensors live outside it */
  maxOldSpaceMb?: number;
  /** hears when an engine process starts and ends (the editor's log) */
  onProcess?: (line: string) => void;
  /** hears the engine's health: a process started, stopped on purpose, or crashed (with what happened) */
  onHealth?: (health: EngineHealth, detail: string) => void;
}

export type EngineHealth = 'running' | 'stopped' | 'crashed';

// Every capture copies the probabilities into new buffers, and fresh pages fault in one by one,
// which costs more than the copy. glibc (other C libraries ignore its tunables) is told to serve
// buffers up to 32 MiB from its heap and to keep up to 1 GiB freed there, so the next capture
// reuses the last one's pages, and to back its memory with 2 MiB pages where the kernel allows:
// a virtualised machine pays for every 4 KiB page a process maps, on each fault and each wake
// (docs/performance.md has the figures).
const ENGINE_MALLOC_TUNABLES = ['glibc.malloc.mmap_threshold=' + 32 * 2 ** 20, 'glibc.malloc.trim_threshold=' + 2 ** 30, 'glibc.malloc.hugetlb=1'];

/** The engine's environment: this process's, with the telemetry switch and the allocator's tunables added to the user's own. */
export function engineEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // the user's own come last, so that they win
  const tunables = [...ENGINE_MALLOC_TUNABLES, env.GLIBC_TUNABLES].filter(Boolean).join(':');
  // The telemetry switch keeps ONNX Runtime from writing a device id and usage database under
  // the user's home folder; ELECTRON_RUN_AS_NODE makes VS Code's binary a plain Node.
  return { ...env, GLIBC_TUNABLES: tunables, ORT_DISABLE_TELEMETRY: '1', ELECTRON_RUN_AS_NODE: '1' };
}

interface Pending {
  resolve(value: unknown): void;
  reject(e: EngineError): void;
  timer: NodeJS.Timeout;
  method: EngineMethod;
  /** the engine process the request went to: its exit fails only its own requests */
  child: ChildProcess;
}

const STDERR_TAIL_CHARS = 2000;

export class EngineClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderrTail = '';
  /** engines stopped on purpose, whose exit is not a crash */
  private readonly stopped = new WeakSet<ChildProcess>();

  constructor(private readonly opts: EngineClientOptions) {}

  /** the running engine's process id, if one runs */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  load(params: LoadOptions): Promise<ModelInfo> {
    return this.request('load', params);
  }

  capture(load: LoadOptions, capture: CaptureOptions): Promise<AttentionCapture> {
    return this.request('capture', { load, capture });
  }

  async analyze(params: EngineMethods['analyze']['params']): Promise<Omit<EngineMethods['analyze']['result'], 'analysis'> & { analysis: AttentionAnalysis }> {
    const { analysis, ...rest } = await this.request('analyze', params);
    return { ...rest, analysis: analysisFromWire(analysis) };
  }

  head(params: EngineMethods['head']['params']): Promise<EngineMethods['head']['result']> {
    return this.request('head', params);
  }

  tile(params: EngineMethods['tile']['params']): Promise<EngineMethods['tile']['result']> {
    return this.request('tile', params);
  }

  headMap(params: EngineMethods['headMap']['params']): Promise<EngineMethods['headMap']['result']> {
    return this.request('headMap', params);
  }

  window(params: EngineMethods['window']['params']): Promise<EngineMethods['window']['result']> {
    return this.request('window', params);
  }

  tokenRow(params: EngineMethods['tokenRow']['params']): Promise<EngineMethods['tokenRow']['result']> {
    return this.request('tokenRow', params);
  }

  buckets(params: EngineMethods['buckets']['params']): Promise<EngineMethods['buckets']['result']> {
    return this.request('buckets', params);
  }

  /** The standalone HTML report of a kept capture: its analysis packed here, as analyze's is unpacked. */
  report({ analysis, ...params }: Omit<EngineMethods['report']['params'], 'analysis'> & { analysis: AttentionAnalysis }): Promise<EngineMethods['report']['result']> {
    return this.request('report', { ...params, analysis: wireAnalysis(analysis) });
  }

  /** Lets the engine drop a kept capture; an engine that is not running holds none, and is not started for it. */
  release(capture: string): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.request('release', { capture }).catch(() => undefined);
  }

  recurrence(params: EngineMethods['recurrence']['params']): Promise<EngineMethods['recurrence']['result']> {
    return this.request('recurrence', params);
  }

  profileTarget(params: EngineMethods['profileTarget']['params']): Promise<EngineMethods['profileTarget']['result']> {
    return this.request('profileTarget', params);
  }

  /** One point of a memory profile (src/engine/profileSweep.ts runs a sweep of them). */
  profile(params: EngineMethods['profile']['params']): Promise<EngineMethods['profile']['result']> {
    return this.request('profile', params);
  }

  processMemory(): Promise<EngineMethods['processMemory']['result']> {
    return this.request('processMemory', {});
  }

  /** Stops whatever the engine is doing: ONNX Runtime cannot abort a run, so the process ends. */
  cancel(): void {
    this.stop(new EngineError('cancelled', 'the run was cancelled'));
  }

  dispose(): void {
    this.stop(new EngineError('cancelled', 'the engine was shut down'));
  }

  private start(): ChildProcess {
    this.stderrTail = '';
    const execArgv = this.opts.maxOldSpaceMb ? [`--max-old-space-size=${this.opts.maxOldSpaceMb}`] : [];
    const child = fork(this.opts.enginePath, [], {
      serialization: 'advanced',
      execArgv,
      env: engineEnv(process.env),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_TAIL_CHARS);
    });
    this.opts.onProcess?.(`engine process ${child.pid} started`);
    this.opts.onHealth?.('running', `engine process ${child.pid}`);
    child.on('message', (msg: EngineResponse) => this.settle(msg));
    child.on('exit', (code, signal) => this.exited(child, code, signal));
    child.on('error', (e: NodeJS.ErrnoException) => {
      // a request sent as the process dies: its exit follows, and says why
      if (e.code === 'EPIPE' || e.code === 'ERR_IPC_CHANNEL_CLOSED') return;
      this.failAll(new EngineError('crashed', `the engine process could not run: ${e.message}`), child);
    });
    this.child = child;
    return child;
  }

  private request<M extends EngineMethod>(method: M, params: EngineMethods[M]['params']): Promise<EngineMethods[M]['result']> {
    const child = this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child : this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const seconds = Math.round(this.opts.timeoutMs / 1000);
        this.stop(new EngineError('timeout', `the ${method} took longer than the ${seconds} s time limit and was stopped`));
      }, this.opts.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method, child });
      child.send({ id, method, params });
    });
  }

  private settle(msg: EngineResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new EngineError(msg.kind, msg.message));
  }

  private stop(reason: EngineError): void {
    const child = this.child;
    this.child = undefined;
    this.failAll(reason, child);
    if (child && child.exitCode === null && child.signalCode === null) {
      this.stopped.add(child);
      child.kill('SIGKILL');
    }
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = undefined;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.opts.onProcess?.(`engine process ${child.pid} ${how}${this.stopped.has(child) ? ' (stopped)' : ''}`);
    if (this.stopped.has(child)) return this.opts.onHealth?.('stopped', `engine process ${child.pid} ${how}`);
    this.opts.onHealth?.('crashed', `the engine process ${how}`);
    const lines = this.stderrTail.trim().split('\n');
    const limit = lines.find((l) => l.startsWith(MEMORY_LIMIT_MARK));
    if (limit) return this.failAll(new EngineError('crashed', `${limit}; the next run starts a fresh engine`), child);
    const oom = signal === 'SIGKILL' ? ' (the system may have run out of memory)' : '';
    const tail = lines.slice(-3).join(' | ');
    this.failAll(new EngineError('crashed', `the engine process ${how}${oom} during the run${tail ? `: ${tail}` : ''}; the next run starts a fresh engine`), child);
  }

  /** Rejects the requests sent to `child` (all of them when there is none). */
  private failAll(e: EngineError, child: ChildProcess | undefined): void {
    for (const [id, p] of this.pending) {
      if (child && p.child !== child) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(e);
    }
  }
}
