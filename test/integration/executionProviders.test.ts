// The provider chain on this machine and through the CLI: auto's fall back to the CPU with both
// skip reasons in the report, an explicit GPU provider refused in one line, the probe asked once
// per process, and a GroupQueryAttention capture moved to the CPU from a GPU provider (a probe
// that says WebGPU starts stands in for a GPU).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelReport } from '../../src/cli/analyzeReport';
import { TINY_FUSED_SHAPE, fusedAttentionModel } from '../../src/model/builder/fusedAttentionModels';
import { LoadedModel } from '../../src/model/capture';
import type { ProviderProbe } from '../../src/model/executionProviders';
import { probedProvider } from '../../src/model/ortSession';
import { refuses } from '../helpers/cliRefusal';
import { CLI, SPECIMEN } from '../helpers/paths';

process.env.ORT_DISABLE_TELEMETRY = '1';
const scratch = mkdtempSync(join(tmpdir(), 'attention-lens-providers-'));

// What the expectations below rest on: no Vulkan loader (so no WebGPU adapter) and no CUDA provider library.
const VULKAN_LOADER = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib'].some((d) => existsSync(join(d, 'libvulkan.so.1')));
const CUDA_LIBRARY = existsSync(join(require.resolve('onnxruntime-node'), '..', '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
const GPU_HERE = process.platform !== 'linux' || VULKAN_LOADER || CUDA_LIBRARY ? 'this machine may have a GPU provider' : false;

test('--ep auto runs on the CPU here, and the report says why CUDA and WebGPU were skipped', { skip: GPU_HERE }, () => {
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', 'demo', '--text', 'a fox', '--ep', 'auto', '--no-head-distance'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const model = JSON.parse(r.stdout).model;
  assert.equal(model.executionProvider, 'cpu');
  assert.equal(model.executionProviderChoice.asked, 'auto');
  assert.equal(model.executionProviderChoice.chosen, 'cpu');
  const [cuda, webgpu, ...more] = model.executionProviderChoice.skipped;
  assert.equal(cuda, 'cuda: libonnxruntime_providers_cuda.so is not installed (see README, GPU)');
  assert.match(webgpu, /^webgpu: no adapter: Failed to get a WebGPU adapter: No supported adapters \(Dawn: Couldn't load Vulkan: libvulkan\.so\.1/);
  assert.deepEqual(more, []);
});

test('--ep webgpu and --ep cuda fail with exit 2 and one line naming the reason, instead of falling back', { skip: GPU_HERE }, () => {
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--ep', 'webgpu'], /^attention-lens: the webgpu execution provider cannot start: no adapter: .*Couldn't load Vulkan: libvulkan\.so\.1/);
  refuses(['analyze', '--model', 'demo', '--text', 'a fox', '--ep', 'cuda'], /^attention-lens: the cuda execution provider cannot start: libonnxruntime_providers_cuda\.so is not installed \(see README, GPU\)$/);
});

test('a probe is asked once per process: a provider that does not start is not tried again at every capture', async () => {
  const first = probedProvider('webgpu');
  assert.equal(probedProvider('webgpu'), first);
  const answer = await first;
  assert.equal(typeof answer.starts, 'boolean');
});

test("GroupQueryAttention's output_qk on a GPU provider: the capture runs on the CPU, and the report says which ran and why", async () => {
  const webgpuStarts = async (): Promise<ProviderProbe> => ({ starts: true, adapter: { vendor: 'Test', vendorId: '0x1', deviceId: '0x2' } });
  const path = join(scratch, 'gqa.onnx');
  writeFileSync(path, fusedAttentionModel({ ...TINY_FUSED_SHAPE, causal: true, kvHeads: 2 }, 'GroupQueryAttention').model);
  // a session on WebGPU would fail here (no adapter): the load succeeds only on the CPU
  const gqa = await LoadedModel.load({ model: path, executionProvider: 'webgpu' }, webgpuStarts);
  const capture = await gqa.capture({ ids: [3, 9, 1, 22] });
  await gqa.release();
  assert.equal(capture.executionProvider, 'cpu');
  const note = "GroupQueryAttention's output_qk exists only on ONNX Runtime's CPU provider: this capture ran on the CPU, not on webgpu";
  assert.ok(capture.warnings.includes(note), capture.warnings.join(' | '));
  assert.equal(capture.executionProviderLine, `cpu (${note})`);
  const report = modelReport(gqa.info, capture.executionProvider) as { executionProvider: string; executionProviderChoice: object };
  assert.equal(report.executionProvider, 'cpu');
  assert.deepEqual(report.executionProviderChoice, { asked: 'webgpu', chosen: 'webgpu', skipped: [], cpuInstead: note });

  // the same probe with a model that needs no CPU-only output goes to WebGPU: refused here, run where a GPU is
  const specimen = LoadedModel.load({ model: SPECIMEN, executionProvider: 'webgpu' }, webgpuStarts);
  if (GPU_HERE) assert.equal((await specimen).info.executionProvider, 'webgpu');
  else await assert.rejects(specimen, /the webgpu execution provider cannot run this model: Failed to get a WebGPU adapter/);
});
