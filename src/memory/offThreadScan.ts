// Config scans of large documents on a worker thread: a parse of a 2 MiB YAML file takes most of
// a second, which on the extension host would stall the editor. The worker starts on first use
// and never keeps the process alive.
import { Worker } from 'node:worker_threads';
import type { ConfigLanguage, ConfigScan } from './configSites';

/** Documents of more than this many characters are scanned off the extension host's thread: YAML, the slowest to parse, takes about 0.35 ms a KiB. */
export const OFF_THREAD_SCAN_CHARS = 64 * 1024;

export class OffThreadScanner {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (s: ConfigScan) => void; reject: (e: Error) => void }>();

  /** `script`: the bundled configScanWorker.js */
  constructor(private readonly script: string) {}

  scan(text: string, language: ConfigLanguage): Promise<ConfigScan> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, text, language });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script);
    worker.unref();
    worker.on('message', (r: { id: number; scan?: ConfigScan; error?: string }) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.scan) p?.resolve(r.scan);
      else p?.reject(new Error(r.error));
    });
    const fail = (why: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`the config scan's thread ${why}`));
      this.pending.clear();
    };
    worker.on('error', (e) => fail(`failed (${e.message})`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  dispose(): void {
    void this.worker?.terminate();
  }
}
