// The one module that imports onnxruntime-node: sessions, execution providers, tensors.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './builder/onnxBuilder';
import type { ExecutionProvider, GpuAdapter, GpuProvider, ProviderProbe, ProviderRun } from './executionProviders';
import { InputError } from './inputError';
import { ONNX_FLOAT } from './onnxGraph';
import { float16Bits, floatOfHalf } from './onnxEncoding';

export type OrtSession = ort.InferenceSession;
export type OrtTensor = ort.Tensor;
export type OrtFeeds = Record<string, ort.Tensor>;

export interface SessionWithProvider {
  session: ort.InferenceSession;
  /** how its provider was chosen, and the one it runs on */
  run: ProviderRun;
}

const CUDA_LIBRARY = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';

/** The folder of the binding's native libraries, where the CUDA provider's go (README, GPU). */
function nativeFolder(): string {
  return join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

// A GPU driver can hang in its first call: a probe that has not answered by then is stopped.
const PROBE_LIMIT_MS = 20_000;

// One probe per provider and process: a provider that does not start is not tried again at every capture.
const probes = new Map<GpuProvider, Promise<ProviderProbe>>();

/** Whether a GPU provider starts here, probed once per process. */
export function probedProvider(p: GpuProvider): Promise<ProviderProbe> {
  let probe = probes.get(p);
  if (!probe) {
    probe = startsHere(p);
    probes.set(p, probe);
  }
  return probe;
}

async function startsHere(p: GpuProvider): Promise<ProviderProbe> {
  // what this build of the binding offers decides what can be tried
  if (!ort.listSupportedBackends().some((b) => b.name === p)) return { starts: false, reason: `this build of ONNX Runtime has no ${p} provider for ${process.platform}/${process.arch}` };
  if (p === 'cuda' && !existsSync(join(nativeFolder(), CUDA_LIBRARY))) return { starts: false, reason: `${CUDA_LIBRARY} is not installed (see README, GPU)` };
  const { error, log } = await probeProcess(p);
  return probeOutcome(p, error, log);
}

// A Softmax of four numbers, run once: the provider's device is created and a kernel of it runs.
const PROBE_MODEL = ((): Uint8Array => {
  const g = new GraphBuilder('provider probe');
  g.nodeOutputs('Softmax', [g.input('x', ONNX_FLOAT, [1, 4])], { axis: -1 }, 'probe', ['y']);
  g.output('y', ONNX_FLOAT, [1, 4]);
  return g.encode().model;
})();

// Verbose logging makes ONNX Runtime write the devices it discovers (its GPU's vendor and ids).
const PROBE_SCRIPT = `const [binding, ep, model] = process.argv.slice(1);
const ort = require(binding);
ort.env.logLevel = 'verbose';
(async () => {
  const s = await ort.InferenceSession.create(Buffer.from(model, 'base64'), { executionProviders: [ep] });
  await s.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 4]) });
  await s.release();
})().then(() => process.exit(0), (e) => { process.stdout.write(String((e && e.message) || e)); process.exit(1); });`;

// The probe runs in a process of its own: Dawn and the CUDA libraries write their messages to its
// stderr, not the engine's, a crash in a driver takes down only it, and a hang ends with its kill.
function probeProcess(p: GpuProvider): Promise<{ error?: string; log: string }> {
  return new Promise((resolve) => {
    // ELECTRON_RUN_AS_NODE: under VS Code, process.execPath is its binary
    const child = spawn(process.execPath, ['-e', PROBE_SCRIPT, require.resolve('onnxruntime-node'), p, Buffer.from(PROBE_MODEL).toString('base64')], {
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (log += s));
    // answered at once: a child stuck in a driver may hold its pipes past the kill
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ error: `no answer within ${PROBE_LIMIT_MS / 1000} s (the probe was stopped)`, log });
    }, PROBE_LIMIT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ error: `the probe process could not start: ${e.message}`, log });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? { log } : { error: out.trim() || `the probe ended with ${signal ?? `code ${code}`}`, log });
    });
  });
}

// Attention outputs that only ONNX Runtime's CPU kernels compute (its operator documentation):
// a capture that reads them runs on the CPU whatever provider was chosen.
const CPU_ONLY_OUTPUTS: Record<string, string> = {
  'com.microsoft.GroupQueryAttention': "GroupQueryAttention's output_qk exists only on ONNX Runtime's CPU provider",
};

/** Why a capture of attention computed by these ops must run on the CPU, if it must. */
export function cpuOnlyOutput(ops: readonly string[]): string | undefined {
  const op = ops.find((o) => o in CPU_ONLY_OUTPUTS);
  return op === undefined ? undefined : CPU_ONLY_OUTPUTS[op];
}

/** ONNX Runtime's message in one line, without the source file, function and condition it starts with. */
function ortMessage(message: string): string {
  return message.split('\n')[0].replace(/^\S+:\d+ .* was false\. /, '').trim().slice(0, 300);
}

// ONNX Runtime's device discovery, at verbose level: type 1 is a GPU
const DISCOVERED_GPU = /Discovered OrtHardwareDevice \{vendor_id:(0x[0-9a-f]+), device_id:(0x[0-9a-f]+), vendor:([^,]*), type:1\b/i;

/**
 * What a probe's error (none when it ran) and its stderr say: the GPU ONNX Runtime found, or why
 * the provider does not start, in one line: Dawn's warning (no Vulkan loader) or the library
 * that did not load (CUDA 12, cuDNN 9) where the log names them.
 */
export function probeOutcome(p: GpuProvider, error: string | undefined, log: string): ProviderProbe {
  if (error === undefined) {
    const gpu = DISCOVERED_GPU.exec(log);
    const adapter: GpuAdapter | undefined = gpu ? { vendor: gpu[3].trim(), vendorId: gpu[1], deviceId: gpu[2] } : undefined;
    return { starts: true, ...(adapter ? { adapter } : {}) };
  }
  const said = ortMessage(error);
  if (p === 'webgpu') {
    const dawn = /^Warning: (.+)$/m.exec(log)?.[1].trim();
    return { starts: false, reason: `${/adapter/i.test(said) ? 'no adapter' : 'does not start'}: ${said}${dawn ? ` (Dawn: ${dawn})` : ''}` };
  }
  const unloaded = /Failed to load library (\S+) with error: (.+)$/m.exec(log);
  // the loader names libraries by their whole paths: their names say enough
  const named = (s: string): string => s.replace(/\/\S*\/([^/\s:]+)/g, '$1').trim();
  return { starts: false, reason: unloaded ? `${basename(unloaded[1])} does not load: ${named(unloaded[2])}` : `does not start: ${said}` };
}

/** A session of the memory profiler (src/model/profiledRun.ts): ONNX Runtime writes filePrefix_<date>.json on endProfiling. */
export interface ProfilingOptions {
  filePrefix: string;
  /** ONNX Runtime plans the run's memory from the first and allocates it as one block (its default) */
  memPattern: boolean;
  /** where ONNX Runtime writes each node's memory as its first run used it (what a kernel allocates inside itself: the trace lacks it) */
  nodeStatsFile: string;
}

function options(provider: ExecutionProvider, profiling?: ProfilingOptions): ort.InferenceSession.SessionOptions {
  return {
    ...(profiling ? { enableProfiling: true, profileFilePrefix: profiling.filePrefix, enableMemPattern: profiling.memPattern } : {}),
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // ONNX Runtime's threads otherwise spin for tens of milliseconds after a run, taking a core
    // from the statistics that follow it (and from the editor).
    extra: { session: { force_spinning_stop: '1', ...(profiling ? { collect_node_memory_stats_to_file: profiling.nodeStatsFile } : {}) } },
  };
}

/** A model as ONNX Runtime takes it: its file, its bytes, or its bytes and the folder its external data lies in. */
type ModelSource = string | Uint8Array | { bytes: Uint8Array; externalDataFolder: string };

/**
 * A session on the run's provider. Where auto chose a GPU on which this model's session does not
 * start, the CPU runs it, and the run says why among its skipped; an explicit choice fails.
 */
export async function createSession(source: ModelSource, run: ProviderRun, profiling?: ProfilingOptions): Promise<SessionWithProvider> {
  const create = (provider: ExecutionProvider): Promise<ort.InferenceSession> => {
    const o = options(provider, profiling);
    if (typeof source === 'string') return ort.InferenceSession.create(source, o);
    if (source instanceof Uint8Array) return ort.InferenceSession.create(source, o);
    // bytes name their external data relative to this folder, read in place: no copy is written
    const session = { ...(o.extra?.session as Record<string, string>), model_external_initializers_file_folder_path: source.externalDataFolder };
    return ort.InferenceSession.create(source.bytes, { ...o, extra: { ...o.extra, session } });
  };
  if (run.provider === 'cpu') return { session: await create('cpu'), run };
  try {
    return { session: await create(run.provider), run };
  } catch (e) {
    const why = ortMessage((e as Error).message);
    if (run.asked !== 'auto') throw new InputError(`the ${run.provider} execution provider cannot run this model: ${why}`);
    const { adapter: _gpu, ...rest } = run;
    return { session: await create('cpu'), run: { ...rest, chosen: 'cpu', provider: 'cpu', skipped: [...run.skipped, `${run.provider}: this model's session does not start on it: ${why}`] } };
  }
}

export function intTensor(type: 'int32' | 'int64', values: readonly number[], dims: number[]): ort.Tensor {
  return type === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims)
    : new ort.Tensor('int32', Int32Array.from(values), dims);
}

export function floatTensor(values: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', values, dims);
}

/** A float16 tensor of float32 values, rounded to nearest even. */
export function halfTensor(values: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float16', float16Bits(values), dims);
}

export function boolTensor(values: readonly boolean[], dims: number[]): ort.Tensor {
  return new ort.Tensor('bool', Uint8Array.from(values, (v) => (v ? 1 : 0)), dims);
}

/** A tensor of zeros of a float type ONNX Runtime names ('float32', 'float16'): empty caches, static caches. */
export function zeroTensor(type: string, dims: number[]): ort.Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  return type === 'float16' ? new ort.Tensor('float16', new Uint16Array(count), dims) : new ort.Tensor('float32', new Float32Array(count), dims);
}

/** The tensor repeated `times` along `axis`, where it has size 1: a batch of copies of one input. */
export function repeatedTensor(t: ort.Tensor, axis: number, times: number): ort.Tensor {
  const dims = t.dims.map(Number);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis).reduce((a, b) => a * b, 1);
  const data = t.data as Float32Array;
  const out = new (data.constructor as Float32ArrayConstructor)(data.length * times);
  for (let o = 0; o < outer; o++) for (let r = 0; r < times; r++) out.set(data.subarray(o * inner, (o + 1) * inner), (o * times + r) * inner);
  dims[axis] *= times;
  return new ort.Tensor(t.type as 'float32', out, dims);
}

/** Entry i of a tensor's first axis (one iteration of a Loop's stacked output), copied: a capture keeping one iteration does not keep them all. */
export function firstAxisEntry(t: ort.Tensor, i: number): ort.Tensor {
  const dims = t.dims.map(Number);
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const data = t.data as Float32Array | Uint16Array | Float64Array;
  return new ort.Tensor(t.type as 'float32', data.slice(i * per, (i + 1) * per) as Float32Array, dims.slice(1));
}

/** A tensor's values as float32, converting float16 and float64. */
export function tensorFloats(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float64') return Float32Array.from(t.data as Float64Array);
  if (t.type === 'float16') {
    const halves = t.data as Uint16Array;
    const out = new Float32Array(halves.length);
    for (let i = 0; i < halves.length; i++) out[i] = floatOfHalf(halves[i]);
    return out;
  }
  throw new InputError(`an attention tensor has type ${t.type}, not a floating-point type`);
}
