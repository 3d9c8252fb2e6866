// The one module that imports onnxruntime-node: sessions, execution providers, tensors.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider, ExecutionProviderChoice } from './executionProviders';
import { InputError } from './inputError';
import { float16Bits, floatOfHalf } from './onnxEncoding';

export type OrtSession = ort.InferenceSession;
export type OrtTensor = ort.Tensor;
export type OrtFeeds = Record<string, ort.Tensor>;

export interface SessionWithProvider {
  session: ort.InferenceSession;
  provider: ExecutionProvider;
  /** why auto fell back to the CPU, when it did */
  fallbackReason?: string;
}

/** Whether the CUDA provider's library was installed beside the binding (it is opt-in). */
export function cudaBinariesPresent(): boolean {
  const binding = require.resolve('onnxruntime-node');
  const root = join(dirname(binding), '..');
  const bin = join(root, 'bin', 'napi-v6', process.platform, process.arch);
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(join(bin, lib));
}

const CUDA_HOW_TO =
  'install them with: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (needs CUDA 12 and cuDNN 9 on the machine)';

/** A session of the memory profiler (src/model/profiledRun.ts): ONNX Runtime writes filePrefix_<date>.json on endProfiling. */
interface ProfilingOptions {
  filePrefix: string;
  /** ONNX Runtime plans the run's memory from the first and allocates it as one block (its default) */
  memPattern: boolean;
}

function options(provider: ExecutionProvider, profiling?: ProfilingOptions): ort.InferenceSession.SessionOptions {
  return {
    ...(profiling ? { enableProfiling: true, profileFilePrefix: profiling.filePrefix, enableMemPattern: profiling.memPattern } : {}),
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // ONNX Runtime's threads otherwise spin for tens of milliseconds after a run, taking a core
    // from the statistics that follow it (and from the editor).
    extra: { session: { force_spinning_stop: '1' } },
  };
}

/** What keeps WebGPU from starting, in one line: Dawn's own messages run to many. */
function webgpuFailure(message: string): string {
  // on Linux Dawn reaches the GPU through Vulkan: without its loader no adapter is ever found
  const vulkanLoader = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib'].some((d) => existsSync(join(d, 'libvulkan.so.1')));
  if (/libvulkan\.so/.test(message) || (process.platform === 'linux' && !vulkanLoader)) return "no Vulkan loader (libvulkan.so.1): install the Vulkan loader and the GPU's Vulkan driver";
  if (/adapter/i.test(message)) return 'no WebGPU adapter (no GPU, or no driver for it)';
  return message.split('\n')[0].slice(0, 300);
}

/** A model as ONNX Runtime takes it: its file, its bytes, or its bytes and the folder its external data lies in. */
type ModelSource = string | Uint8Array | { bytes: Uint8Array; externalDataFolder: string };

export async function createSession(source: ModelSource, choice: ExecutionProviderChoice, profiling?: ProfilingOptions): Promise<SessionWithProvider> {
  const create = (provider: ExecutionProvider): Promise<ort.InferenceSession> => {
    const o = options(provider, profiling);
    if (typeof source === 'string') return ort.InferenceSession.create(source, o);
    if (source instanceof Uint8Array) return ort.InferenceSession.create(source, o);
    // bytes name their external data relative to this folder, read in place: no copy is written
    const session = { ...(o.extra?.session as Record<string, string>), model_external_initializers_file_folder_path: source.externalDataFolder };
    return ort.InferenceSession.create(source.bytes, { ...o, extra: { ...o.extra, session } });
  };
  // WebGPU (bundled, through Dawn: Vulkan, D3D12 or Metal) only when asked for, until a GPU has
  // checked its captures against the CPU's (npm run device-check)
  if (choice === 'webgpu') {
    try {
      return { session: await create('webgpu'), provider: 'webgpu' };
    } catch (e) {
      throw new InputError(`the WebGPU execution provider could not start: ${webgpuFailure((e as Error).message)}`);
    }
  }
  if (choice === 'cuda' && !cudaBinariesPresent()) {
    throw new InputError(`the CUDA execution provider was asked for, but its binaries are not installed: ${CUDA_HOW_TO}`);
  }
  if (choice !== 'cpu' && cudaBinariesPresent()) {
    try {
      return { session: await create('cuda'), provider: 'cuda' };
    } catch (e) {
      if (choice === 'cuda') throw new InputError(`the CUDA execution provider could not start: ${(e as Error).message}`);
      return { session: await create('cpu'), provider: 'cpu', fallbackReason: `CUDA could not start (${(e as Error).message}); ran on the CPU` };
    }
  }
  return { session: await create('cpu'), provider: 'cpu' };
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
