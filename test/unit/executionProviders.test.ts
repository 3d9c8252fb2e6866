// The provider chain's decisions on given probes (which GPU provider starts, in what order auto
// tries them, what an explicit choice does when its provider does not start), the CPU where a
// model's attention needs it, the one-line form, and what a probe's messages are read as.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CPU_RUN, GpuProvider, ProviderProbe, cpuWhereNeeded, providerLine, providerRun } from '../../src/model/executionProviders';
import { InputError } from '../../src/model/inputError';
import { cpuOnlyOutput, probeOutcome } from '../../src/model/ortSession';

const NVIDIA = { vendor: 'NVIDIA', vendorId: '0x10de', deviceId: '0x2335' };

/** Probes with fixed answers, and the providers asked, in order. */
function probes(answers: Partial<Record<GpuProvider, ProviderProbe>>): { probe: (p: GpuProvider) => Promise<ProviderProbe>; asked: GpuProvider[] } {
  const asked: GpuProvider[] = [];
  const probe = async (p: GpuProvider): Promise<ProviderProbe> => {
    asked.push(p);
    const answer = answers[p];
    if (!answer) throw new Error(`${p} was not to be probed`);
    return answer;
  };
  return { probe, asked };
}

test('cpu asks no probe', async () => {
  const { probe, asked } = probes({});
  assert.deepEqual(await providerRun('cpu', probe), CPU_RUN);
  assert.deepEqual(asked, []);
});

test('auto tries CUDA, then WebGPU, then the CPU, and records why each was skipped', async () => {
  const none = probes({ cuda: { starts: false, reason: 'libonnxruntime_providers_cuda.so is not installed' }, webgpu: { starts: false, reason: 'no adapter: none found' } });
  assert.deepEqual(await providerRun('auto', none.probe), {
    asked: 'auto',
    chosen: 'cpu',
    provider: 'cpu',
    skipped: ['cuda: libonnxruntime_providers_cuda.so is not installed', 'webgpu: no adapter: none found'],
  });
  assert.deepEqual(none.asked, ['cuda', 'webgpu']);

  const webgpu = probes({ cuda: { starts: false, reason: 'not installed' }, webgpu: { starts: true, adapter: NVIDIA } });
  assert.deepEqual(await providerRun('auto', webgpu.probe), { asked: 'auto', chosen: 'webgpu', provider: 'webgpu', adapter: NVIDIA, skipped: ['cuda: not installed'] });

  // the first that starts ends the chain: WebGPU is not probed
  const cuda = probes({ cuda: { starts: true } });
  assert.deepEqual(await providerRun('auto', cuda.probe), { asked: 'auto', chosen: 'cuda', provider: 'cuda', skipped: [] });
  assert.deepEqual(cuda.asked, ['cuda']);
});

test('an explicit GPU provider that does not start fails with its reason instead of falling back', async () => {
  const { probe, asked } = probes({ webgpu: { starts: false, reason: 'no adapter: none found' } });
  await assert.rejects(providerRun('webgpu', probe), (e: Error) => e instanceof InputError && e.message === 'the webgpu execution provider cannot start: no adapter: none found');
  assert.deepEqual(asked, ['webgpu'], 'CUDA is not tried in its place');
  const cuda = probes({ cuda: { starts: true, adapter: NVIDIA } });
  assert.equal((await providerRun('cuda', cuda.probe)).provider, 'cuda');
});

test("a capture that reads GroupQueryAttention's output_qk moves to the CPU from a GPU provider, and says so", () => {
  const because = cpuOnlyOutput(['Softmax', 'com.microsoft.GroupQueryAttention']);
  assert.match(because ?? '', /GroupQueryAttention's output_qk exists only on ONNX Runtime's CPU provider/);
  assert.equal(cpuOnlyOutput(['Softmax', 'com.microsoft.MultiHeadAttention']), undefined);
  const onGpu = { asked: 'auto', chosen: 'webgpu', provider: 'webgpu', adapter: NVIDIA, skipped: ['cuda: not installed'] } as const;
  const moved = cpuWhereNeeded(onGpu, because);
  assert.deepEqual(moved, { asked: 'auto', chosen: 'webgpu', provider: 'cpu', skipped: ['cuda: not installed'], cpuInstead: `${because}: this capture ran on the CPU, not on webgpu` });
  assert.equal(cpuWhereNeeded(onGpu, undefined), onGpu);
  assert.equal(cpuWhereNeeded(CPU_RUN, because), CPU_RUN, 'on the CPU already: no note');
});

test('the run in one line: the provider, its GPU, the CPU instead, what auto skipped', () => {
  assert.equal(providerLine(CPU_RUN), 'cpu');
  assert.equal(providerLine({ asked: 'auto', chosen: 'cpu', provider: 'cpu', skipped: ['cuda: a', 'webgpu: b'] }), 'cpu (auto skipped cuda: a; webgpu: b)');
  assert.equal(providerLine({ asked: 'webgpu', chosen: 'webgpu', provider: 'webgpu', adapter: NVIDIA, skipped: [] }), 'webgpu on NVIDIA (PCI 0x10de:0x2335)');
  assert.equal(providerLine({ asked: 'webgpu', chosen: 'webgpu', provider: 'cpu', skipped: [], cpuInstead: 'x: this capture ran on the CPU, not on webgpu' }), 'cpu (x: this capture ran on the CPU, not on webgpu)');
});

// ONNX Runtime 1.30's and Dawn's own messages, as a probe process wrote them on a machine without
// Vulkan; the CUDA line is the one it wrote there for a missing provider library, naming another
const WEBGPU_ERROR =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
const DAWN_LOG =
  "2026-12-02 04:03:09.875623865 [I:onnxruntime:onnxruntime-node, device_discovery_common.cc:34 operator()] Discovered OrtHardwareDevice {vendor_id:0x8086, device_id:0x0, vendor:Intel, type:0, metadata: []}\nWarning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n    at operator() (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:368)\n";
const CUDA_LOG =
  '\x1b[1;31m2026-12-02 04:02:38.676778002 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /work/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file: No such file or directory\n\x1b[m';

test("a probe's messages in one line: no adapter with Dawn's reason, the CUDA library that does not load, the GPU ONNX Runtime found", () => {
  assert.deepEqual(probeOutcome('webgpu', WEBGPU_ERROR, DAWN_LOG), {
    starts: false,
    reason: "no adapter: Failed to get a WebGPU adapter: No supported adapters (Dawn: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory)",
  });
  assert.deepEqual(probeOutcome('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', CUDA_LOG), {
    starts: false,
    reason: 'libonnxruntime_providers_cuda.so does not load: libcublasLt.so.12: cannot open shared object file: No such file or directory',
  });
  assert.deepEqual(probeOutcome('cuda', 'CUDA failure 100: no CUDA-capable device is detected', ''), { starts: false, reason: 'does not start: CUDA failure 100: no CUDA-capable device is detected' });
  // the CPU device (type 0) is no adapter; a GPU (type 1) is
  assert.deepEqual(probeOutcome('webgpu', undefined, DAWN_LOG), { starts: true });
  const gpuLog = `${DAWN_LOG}... Discovered OrtHardwareDevice {vendor_id:0x10de, device_id:0x2335, vendor:NVIDIA, type:1, metadata: []}\n`;
  assert.deepEqual(probeOutcome('cuda', undefined, gpuLog), { starts: true, adapter: NVIDIA });
});
