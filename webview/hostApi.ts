// The webview's one way to reach its host: VS Code's API in the editor, or a stand-in that a
// browser test or the standalone report installs as window.attentionLensHost before loading.
import type { HostMessage, MemoryViewMessage, WebviewMessage, WebviewState } from '../src/protocol';

export interface HostApi {
  postMessage(message: WebviewMessage | MemoryViewMessage): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
  /** a host that saves files itself (the standalone report); VS Code gets an export message */
  saveFile?(fileName: string, content: string, base64: boolean): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  interface Window {
    attentionLensHost?: HostApi;
  }
  function acquireVsCodeApi(): VsCodeApi;
}

export function hostApi(): HostApi {
  if (window.attentionLensHost) return window.attentionLensHost;
  const vscode = acquireVsCodeApi();
  return {
    postMessage: (m) => vscode.postMessage(m),
    getState: () => vscode.getState() as WebviewState | undefined,
    setState: (s) => vscode.setState(s),
  };
}

export function onHostMessage(handler: (m: HostMessage) => void): void {
  window.addEventListener('message', (e: MessageEvent<HostMessage>) => handler(e.data));
}
