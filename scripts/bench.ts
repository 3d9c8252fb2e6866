// npm run bench: bare inference against attention capture on a BERT-base-shaped model
// (12 layers, 12 heads, hidden 768, random weights generated here, never committed), on the CPU.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineClient } from '../src/engine/engineClient';
import { randomBert, BERT_BASE_SHAPE } from '../src/model/builder/randomBert';
import { LoadedModel, formatBytes } from '../src/model/capture';
import { createSession, intTensor } from '../src/model/ortSession';

process.env.ORT_DISABLE_TELEMETRY = '1';
const ROOT = resolve(__dirname, '..');
const MODEL_DIR = join(ROOT, '.bench', 'bert-base-random');
const WARMUP = 2;
const REPEATS = 11;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median times of two runs measured alternately, so that drift of a shared machine hits both alike. */
async function alternatingMedianMs(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  for (let i = 0; i < WARMUP; i++) {
    await a();
    await b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    let t0 = performance.now();
    await a();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    await b();
    tb.push(performance.now() - t0);
  }
  return [median(ta), median(tb)];
}

async function main(): Promise<void> {
  const modelPath = join(MODEL_DIR, 'model.onnx');
  if (!existsSync(modelPath)) {
    const t0 = performance.now();
    mkdirSync(MODEL_DIR, { recursive: true });
    writeFileSync(modelPath, randomBert(BERT_BASE_SHAPE).model);
    console.log(`generated ${modelPath} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const bare = (await createSession(modelPath, 'cpu')).session;
  const tapped = await LoadedModel.load({ model: modelPath, executionProvider: 'cpu' });
  const engine = new EngineClient({ enginePath: join(ROOT, 'dist', 'engine.js'), timeoutMs: 600_000 });
  console.log(`BERT-base shape (L ${BERT_BASE_SHAPE.layers}, h ${BERT_BASE_SHAPE.heads}, hidden ${BERT_BASE_SHAPE.hidden}), CPU, median of ${REPEATS} alternating runs after ${WARMUP} warm-up runs`);
  console.log('n\tbare ms\tcapture ms\tratio\tattention captured\tengine peak RSS');
  try {
    for (const n of [128, 512]) {
      const ids = Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 20000));
      const feeds = { input_ids: intTensor('int64', ids, [1, n]), attention_mask: intTensor('int64', Array(n).fill(1), [1, n]) };
      const [bareMs, captureMs] = await alternatingMedianMs(
        () => bare.run(feeds),
        () => tapped.capture({ ids }),
      );
      const load = { model: modelPath, executionProvider: 'cpu' as const };
      await engine.capture(load, { ids });
      const { maxRssBytes } = await engine.stats();
      const captured = BERT_BASE_SHAPE.layers * BERT_BASE_SHAPE.heads * n * n * 4;
      console.log(`${n}\t${bareMs.toFixed(1)}\t${captureMs.toFixed(1)}\t${(captureMs / bareMs).toFixed(2)}x\t${formatBytes(captured)}\t${formatBytes(maxRssBytes)}`);
    }
  } finally {
    engine.dispose();
  }
}

void main();
