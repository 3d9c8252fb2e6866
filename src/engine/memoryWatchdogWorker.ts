// The memory watchdog's thread (memoryWatchdog.ts): the process's resident memory, which a
// worker reads for the whole process, against the cap; above it, one line on stderr and the end.
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { limitBytes, mark } = workerData as { limitBytes: number; mark: string };
const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

// A capture allocates a layer's probabilities at a time: every 20 ms sees the growth long before
// a gigabyte more is taken.
setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss <= limitBytes) return;
  writeSync(2, `${mark} ${gib(rss)} resident, above its limit of ${gib(limitBytes)} (ATTENTION_LENS_ENGINE_MEMORY_MIB sets it): the run was stopped; try a shorter text or fewer layers\n`);
  // from a worker, process.exit ends only this thread
  process.kill(process.pid, 'SIGKILL');
}, 20);
