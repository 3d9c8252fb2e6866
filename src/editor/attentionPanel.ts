// The attention panel (one class per panel, as in VS Code's webview sample): shows a capture's
// heads as heatmaps. The webview receives the summary first and asks for one head at a time.
import * as vscode from 'vscode';
import type { AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { AttentionCapture } from '../analysis/attentionCapture';
import { captureSummary, headMatrix } from '../analysis/captureViews';
import { HostMessage, isWebviewMessage } from '../protocol';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

export class AttentionPanel {
  static readonly viewType = 'attentionLens.attention';
  private static current: AttentionPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, modelPath: string, capture: AttentionCapture, analysis?: AttentionAnalysis): void {
    if (AttentionPanel.current) {
      AttentionPanel.current.setCapture(modelPath, capture, analysis);
      AttentionPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(AttentionPanel.viewType, 'Attention', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    AttentionPanel.current = new AttentionPanel(panel, extensionUri, modelPath, capture, analysis);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private modelPath: string,
    private capture: AttentionCapture,
    private analysis: AttentionAnalysis | undefined,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'Attention');
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.received(m), undefined, this.disposables);
  }

  private setCapture(modelPath: string, capture: AttentionCapture, analysis?: AttentionAnalysis): void {
    this.modelPath = modelPath;
    this.capture = capture;
    this.analysis = analysis;
    this.post({ type: 'summary', summary: captureSummary(modelPath, capture, analysis) });
  }

  private received(m: unknown): void {
    if (!isWebviewMessage(m)) return;
    if (m.type === 'ready') {
      this.post({ type: 'summary', summary: captureSummary(this.modelPath, this.capture, this.analysis) });
      return;
    }
    if (m.type === 'export') {
      void saveExport(m.fileName, m.content, m.base64);
      return;
    }
    const matrix = headMatrix(this.capture, m.layer, m.head);
    this.post(matrix ? { type: 'headMatrix', id: m.id, matrix } : { type: 'error', id: m.id, message: `no head ${m.head} in layer ${m.layer}` });
  }

  private post(msg: HostMessage): void {
    void this.panel.webview.postMessage(msg);
  }

  dispose(): void {
    AttentionPanel.current = undefined;
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
