// The memory panel: attention memory against sequence length for dense attention and the
// six methods, on log-log axes, with the user's n marked.
import * as vscode from 'vscode';
import { AttentionShape, validShape } from '../memory/attentionMemory';
import { memoryChart } from '../memory/memoryReport';
import { WebviewState, isWebviewMessage } from '../protocol';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

export class MemoryPanel {
  static readonly viewType = 'attentionLens.memory';
  private static current: MemoryPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, shape: AttentionShape): void {
    if (MemoryPanel.current) {
      MemoryPanel.current.setShape(shape);
      MemoryPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(MemoryPanel.viewType, 'Attention Memory', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    MemoryPanel.current = new MemoryPanel(panel, extensionUri, shape);
  }

  /** A panel restored after a reload, from the estimate's input kept in its state. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: WebviewState | undefined): void {
    panel.webview.options = webviewOptions(extensionUri);
    try {
      const shape = validShape(state?.memoryShape as unknown as AttentionShape);
      MemoryPanel.current?.dispose();
      MemoryPanel.current = new MemoryPanel(panel, extensionUri, shape);
    } catch {
      panel.dispose();
    }
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private shape: AttentionShape,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'Attention Memory');
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => {
      if (!isWebviewMessage(m)) return;
      if (m.type === 'ready') this.post();
      else if (m.type === 'export') void saveExport(m.fileName, m.content, m.base64);
    }, undefined, this.disposables);
  }

  private setShape(shape: AttentionShape): void {
    this.shape = shape;
    this.post();
  }

  private post(): void {
    void this.panel.webview.postMessage({ type: 'memory', chart: memoryChart(this.shape) });
  }

  dispose(): void {
    MemoryPanel.current = undefined;
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
