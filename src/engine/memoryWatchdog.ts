// The engine's hard memory cap. The capture's memory check keeps runs below the memory the
// machine has free, from a prediction; this is what stops a wrong prediction before the machine
// runs out: a worker thread reads the process's resident memory every few milliseconds (also
// while the engine's own thread is in a long loop or ONNX Runtime holds it) and, above the cap,
// writes one line on stderr, which the editor shows as the engine's failure, and ends the process.
import { freemem, totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MEMORY_LIMIT_MARK } from './engineProtocol';

// Above this share of the memory free at start the machine is close to swapping or to the kernel's
// out-of-memory killer, which would end a process of its own choosing.
const FREE_SHARE = 0.9;

/** The cap: ATTENTION_LENS_ENGINE_MEMORY_MIB where set, else 90% of the memory free at start plus what the engine holds. */
export function engineMemoryLimitBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mib = Number(env.ATTENTION_LENS_ENGINE_MEMORY_MIB);
  if (Number.isFinite(mib) && mib > 0) return mib * 2 ** 20;
  return Math.min(totalmem(), process.memoryUsage.rss() + FREE_SHARE * freemem());
}

/** Starts the watchdog (`script`: the bundled memoryWatchdogWorker.js); it never keeps the process alive. */
export function startMemoryWatchdog(script: string, limitBytes: number): void {
  new Worker(script, { workerData: { limitBytes, mark: MEMORY_LIMIT_MARK } }).unref();
}
