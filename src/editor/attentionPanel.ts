// The attention panel (one class per panel, as in VS Code's webview sample): shows a capture's
// heads as heatmaps. The webview receives the summary first and asks for one head at a time.
import * as vscode from 'vscode';
import type { AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { AttentionCapture } from '../analysis/attentionCapture';
import type { LabResult } from '../analysis/efficientAttentionLab';
import { captureSummary, headMatrix, headTile, wordLevelHead } from '../analysis/captureViews';
import { analyzedCorpus, corpusTexts } from '../engine/corpus';
import type { EngineClient } from '../engine/engineClient';
import type { ExecutionProviderChoice } from '../model/ortSession';
import { CaptureSource, CaptureSummary, HostMessage, WebviewState, isWebviewMessage } from '../protocol';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

export class AttentionPanel {
  static readonly viewType = 'attentionLens.attention';
  private static current: AttentionPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, source: CaptureSource, capture: AttentionCapture, analysis?: AttentionAnalysis, lab?: LabResult): void {
    if (AttentionPanel.current) {
      AttentionPanel.current.setCapture(source, capture, analysis, lab);
      AttentionPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(AttentionPanel.viewType, 'Attention', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    AttentionPanel.current = new AttentionPanel(panel, extensionUri, source, capture, analysis, lab);
  }

  /** A panel restored after a reload: its capture is made again from the source kept in its state. */
  static async revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: WebviewState | undefined, engine: EngineClient, executionProvider: ExecutionProviderChoice): Promise<void> {
    panel.webview.options = webviewOptions(extensionUri);
    const source = state?.source;
    if (!source) {
      panel.dispose();
      return;
    }
    try {
      const load = { model: source.model, executionProvider };
      const { capture, analysis } = source.corpus
        ? await analyzedCorpus(engine, load, corpusTexts(source.corpus), { capture: { layers: source.layers }, analysis: {}, returnFirstAttention: true }, () => undefined).then((r) => ({ capture: r.first, analysis: r.analysis }))
        : await engine.analyze({ load, capture: { text: source.text, layers: source.layers }, analysis: {}, returnAttention: true });
      AttentionPanel.current?.dispose();
      AttentionPanel.current = new AttentionPanel(panel, extensionUri, source, capture, analysis);
    } catch (e) {
      panel.dispose();
      void vscode.window.showWarningMessage(`Attention Lens: the attention panel could not be restored: ${(e as Error).message}`);
    }
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private source: CaptureSource,
    private capture: AttentionCapture,
    private analysis: AttentionAnalysis | undefined,
    private lab?: LabResult,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'Attention');
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.received(m), undefined, this.disposables);
  }

  private setCapture(source: CaptureSource, capture: AttentionCapture, analysis?: AttentionAnalysis, lab?: LabResult): void {
    this.source = source;
    this.capture = capture;
    this.analysis = analysis;
    this.lab = lab;
    this.post({ type: 'summary', summary: this.summary() });
  }

  private summary(): CaptureSummary {
    return { ...captureSummary(this.source.model, this.capture, this.analysis, this.lab), source: this.source };
  }

  private received(m: unknown): void {
    if (!isWebviewMessage(m)) return;
    if (m.type === 'ready') {
      this.post({ type: 'summary', summary: this.summary() });
      return;
    }
    if (m.type === 'export') {
      void saveExport(m.fileName, m.content, m.base64);
      return;
    }
    if (m.type === 'requestTile') {
      const tile = headTile(this.capture, m.layer, m.head, m.q0, m.q1, m.k0, m.k1, m.maxCells);
      this.post(tile ? { type: 'headTile', id: m.id, tile } : { type: 'error', id: m.id, message: `no head ${m.head} in layer ${m.layer}` });
      return;
    }
    const matrix = headMatrix(this.capture, m.layer, m.head);
    if (!matrix) this.post({ type: 'error', id: m.id, message: `no head ${m.head} in layer ${m.layer}` });
    else if (m.words) this.post({ type: 'headMatrix', id: m.id, ...wordLevelHead(this.capture.tokens, this.capture.offsets, matrix) });
    else this.post({ type: 'headMatrix', id: m.id, matrix });
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
