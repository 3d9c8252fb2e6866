// npm run device-check: what the GPU providers do on this machine, in one short run that needs
// no network. (1) The provider chain's decisions: which providers ONNX Runtime offers, which
// start (CUDA's libraries, a WebGPU adapter) or why not, and what auto chooses. (2) For each that
// starts: the specimen's and tiny-bert's captures on it against the CPU's, every probability
// within 1e-4. (3) Bare inference and the capture with its head statistics on a BERT-base-shaped
// model (random weights, generated into .bench/) at n = 128, 512 and (on a GPU) 2,048, on the
// CPU and on each GPU provider, with the ratios. (4) The memory check's figures at n = 512: each
// allocator's peak as ONNX Runtime's profile reports it (the GPU's on CUDA; WebGPU reports none).
// Without a GPU it says so and prints the CPU's figures.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { analyzeCapture } from '../src/analysis/attentionAnalysis';
import { binaryBytes } from '../src/analysis/units';
import { profiledPoint } from '../src/engine/profiledPoint';
import { BERT_BASE_SHAPE, randomBert } from '../src/model/builder/randomBert';
import { LoadedModel } from '../src/model/capture';
import { AUTO_GPU_ORDER, ExecutionProvider, GpuProvider, providerLine, providerRun } from '../src/model/executionProviders';
import { createSession, intTensor, probedProvider } from '../src/model/ortSession';
import { medianMs } from './timing';

process.env.ORT_DISABLE_TELEMETRY = '1';
const ROOT = resolve(__dirname, '..');
const SPECIMEN = join(ROOT, 'media', 'specimen');
const TINY_BERT = resolve(ROOT, '..', 'shared', 'models', 'tiny-bert-mlm');
const TOLERANCE = 1e-4;

/** The GPU providers that start here, as the provider chain probes them, and what auto chooses. */
async function gpuProviders(): Promise<GpuProvider[]> {
  console.log(`ONNX Runtime ${ort.env.versions?.common ?? ''} backends: ${JSON.stringify(ort.listSupportedBackends())}`);
  const started: GpuProvider[] = [];
  for (const provider of AUTO_GPU_ORDER) {
    const probe = await probedProvider(provider);
    if (probe.starts) started.push(provider);
    const adapter = probe.starts && probe.adapter ? ` on ${probe.adapter.vendor} (PCI ${probe.adapter.vendorId}:${probe.adapter.deviceId})` : '';
    console.log(`${provider}: ${probe.starts ? `starts${adapter}` : `skipped: ${probe.reason}`}`);
  }
  console.log(`auto runs on: ${providerLine(await providerRun('auto', probedProvider))}`);
  return started;
}

/** The largest difference between a model's capture on a provider and on the CPU. */
async function againstCpu(model: string, provider: ExecutionProvider, text: string): Promise<number> {
  const [cpu, gpu] = await Promise.all([LoadedModel.load({ model, executionProvider: 'cpu' }), LoadedModel.load({ model, executionProvider: provider })]);
  const [a, b] = [await cpu.capture({ text }), await gpu.capture({ text })];
  let worst = 0;
  a.layers.forEach((l, i) => {
    for (let k = 0; k < l.probs.length; k++) worst = Math.max(worst, Math.abs(l.probs[k] - b.layers[i].probs[k]));
  });
  await Promise.all([cpu.release(), gpu.release()]);
  return worst;
}

async function timings(providers: ExecutionProvider[]): Promise<void> {
  const path = join(ROOT, '.bench', 'bert-base-random', 'model.onnx');
  if (!existsSync(path)) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, randomBert(BERT_BASE_SHAPE).model);
  }
  const lengths = providers.length ? [128, 512, 2048] : [128, 512];
  console.log('\nBERT-base shape (12 layers of 12 heads), random weights: median ms of 3 runs');
  console.log('provider\tn\tbare inference\tcapture + statistics\tratio');
  const cpuBare = new Map<number, number>();
  for (const provider of ['cpu', ...providers] as ExecutionProvider[]) {
    const bare = (await createSession(path, await providerRun(provider, probedProvider))).session;
    const tapped = await LoadedModel.load({ model: path, executionProvider: provider });
    for (const n of lengths) {
      const ids = Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % (BERT_BASE_SHAPE.vocab - 1)));
      const feeds = { input_ids: intTensor('int64', ids, [1, n]), attention_mask: intTensor('int64', Array(n).fill(1), [1, n]) };
      // the CPU's figure at 2,048 is there for the GPU's to be read against: once is enough
      const repeats = n > 512 && provider === 'cpu' ? 1 : 3;
      const bareMs = await medianMs(repeats, () => bare.run(feeds));
      const captureMs = await medianMs(repeats, async () => analyzeCapture(await tapped.capture({ ids }), { headDistance: false }));
      if (provider === 'cpu') cpuBare.set(n, bareMs);
      const vsCpu = provider === 'cpu' ? '' : ` (bare ${(cpuBare.get(n)! / bareMs).toFixed(1)}x faster than the CPU's)`;
      console.log(`${provider}\t${n}\t${bareMs.toFixed(0)}\t${captureMs.toFixed(0)}\t${(captureMs / bareMs).toFixed(2)}x${vsCpu}`);
    }
    await Promise.all([bare.release(), tapped.release()]);
  }
}

/** Each allocator's peak at n = 512 in ONNX Runtime's profile, on the CPU and on each GPU provider. */
async function memoryFigures(providers: GpuProvider[]): Promise<void> {
  const model = join(ROOT, '.bench', 'bert-base-random', 'model.onnx');
  console.log("\nthe memory check's figures, BERT-base shape at n = 512: each allocator's peak in ONNX Runtime's profile");
  for (const provider of ['cpu', ...providers] as ExecutionProvider[]) {
    const { point } = await profiledPoint({ model, executionProvider: provider }, { n: 512, batch: 1 });
    const gpu = point.providers.filter((p) => !/^cpu/i.test(p.provider));
    const figures = point.providers.map((p) => `${p.provider} ${binaryBytes(p.peakBytes)}`).join(', ');
    const none = provider !== 'cpu' && gpu.length === 0 ? `; ${provider} reports no GPU allocator figures` : '';
    console.log(`${provider}: ${figures || 'no allocator figures'}${none}`);
  }
}

async function main(): Promise<void> {
  const providers = await gpuProviders();
  if (providers.length === 0) console.log('no GPU adapter: CPU figures only');
  let failed = false;
  for (const provider of providers) {
    for (const [model, text] of [
      [SPECIMEN, 'The quick brown fox jumps over the lazy dog. It barks, then it sleeps.'],
      [TINY_BERT, 'the quick brown fox jumps over the lazy dog.'],
    ]) {
      if (!existsSync(model)) continue;
      const worst = await againstCpu(model, provider, text);
      const ok = worst <= TOLERANCE;
      failed ||= !ok;
      console.log(`${provider} against cpu, ${model}: largest difference ${worst.toExponential(2)} ${ok ? 'within' : 'BEYOND'} ${TOLERANCE}`);
    }
  }
  await timings(providers);
  await memoryFigures(providers);
  process.exitCode = failed ? 1 : 0;
}

void main();
