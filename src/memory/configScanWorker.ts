// The thread that scans large config documents for the editor (offThreadScan.ts): the same
// configSites as on the extension host, without the syntax tree, which cannot cross threads.
import { parentPort } from 'node:worker_threads';
import { ConfigLanguage, configSites } from './configSites';

export interface ScanRequest {
  id: number;
  text: string;
  language: ConfigLanguage;
}

parentPort?.on('message', ({ id, text, language }: ScanRequest) => {
  try {
    const { tree: _tree, ...scan } = configSites(text, language);
    parentPort!.postMessage({ id, scan });
  } catch (e) {
    parentPort!.postMessage({ id, error: (e as Error).message });
  }
});
