// The attention panel (one class per panel, as in VS Code's webview sample): shows a capture's
// heads as heatmaps. The webview receives the summary first and asks for one head at a time.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { AttentionCapture } from '../analysis/attentionCapture';
import { captureSummary, headMatrix } from '../analysis/captureViews';
import { HostMessage, isWebviewMessage } from '../protocol';

export class AttentionPanel {
  static readonly viewType = 'attentionLens.attention';
  private static current: AttentionPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, modelPath: string, capture: AttentionCapture): void {
    if (AttentionPanel.current) {
      AttentionPanel.current.setCapture(modelPath, capture);
      AttentionPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(AttentionPanel.viewType, 'Attention', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    AttentionPanel.current = new AttentionPanel(panel, extensionUri, modelPath, capture);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private modelPath: string,
    private capture: AttentionCapture,
  ) {
    panel.webview.html = html(panel.webview, extensionUri);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.received(m), undefined, this.disposables);
  }

  private setCapture(modelPath: string, capture: AttentionCapture): void {
    this.modelPath = modelPath;
    this.capture = capture;
    this.post({ type: 'summary', summary: captureSummary(modelPath, capture) });
  }

  private received(m: unknown): void {
    if (!isWebviewMessage(m)) return;
    if (m.type === 'ready') {
      this.post({ type: 'summary', summary: captureSummary(this.modelPath, this.capture) });
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

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
}

function html(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'attention.css'));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data: blob:; style-src ${webview.cspSource} 'unsafe-inline'; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style}" rel="stylesheet"><title>Attention</title></head>
<body><div id="app"></div><script nonce="${nonce}" src="${script}"></script></body></html>`;
}
