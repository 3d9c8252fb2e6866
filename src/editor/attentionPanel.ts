// The attention panel (one class per panel, as in VS Code's webview sample): shows a capture's
// heads as heatmaps. The webview receives the summary first and asks for one head at a time.
import * as vscode from 'vscode';
import type { AttentionAnalysis } from '../analysis/attentionAnalysis';
import { AttentionCapture, layerTokens } from '../analysis/attentionCapture';
import type { LabOptions, LabResult } from '../analysis/efficientAttentionLab';
import { HEAD_DISTANCE_NS_PER_WORK } from '../analysis/headDistance';
import { captureSummary, headMatrix, headTile, wordLevelHead } from '../analysis/captureViews';
import { analyzedCorpus, corpusTexts } from '../engine/corpus';
import type { EngineClient } from '../engine/engineClient';
import type { LoadOptions } from '../model/capture';
import type { ExecutionProviderChoice } from '../model/ortSession';
import { CaptureSource, CaptureSummary, HostMessage, WebviewState, isWebviewMessage } from '../protocol';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** The panel opens without the head distances when they would take more than about 2 s; it offers them then. */
const PANEL_ANALYSIS = { headDistanceBudget: 2e9 / HEAD_DISTANCE_NS_PER_WORK };

/**
 * What the panel shows for a source, run in the engine: one text, or a corpus (statistics over its
 * texts, heatmaps of the first). A text longer than the model's positions is cut, with a warning.
 */
export async function panelRun(
  engine: EngineClient,
  load: LoadOptions,
  source: CaptureSource,
  run: { lab?: LabOptions; texts?: readonly string[]; onText?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<{ capture: AttentionCapture; analysis: AttentionAnalysis; lab?: LabResult }> {
  const capture = { layers: source.layers, truncate: true, ...(source.targetText !== undefined ? { targetText: source.targetText } : {}) };
  if (!source.corpus) return engine.analyze({ load, capture: { ...capture, ...(source.ids ? { ids: source.ids } : { text: source.text }) }, analysis: PANEL_ANALYSIS, lab: run.lab, returnAttention: true });
  const texts = run.texts ?? corpusTexts(source.corpus);
  const r = await analyzedCorpus(engine, load, texts, { capture, analysis: PANEL_ANALYSIS, returnFirstAttention: true }, run.onText ?? (() => undefined), run.signal);
  return { capture: r.first, analysis: r.analysis };
}

export class AttentionPanel {
  static readonly viewType = 'attentionLens.attention';
  private static current: AttentionPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, engine: EngineClient, source: CaptureSource, capture: AttentionCapture, analysis?: AttentionAnalysis, lab?: LabResult): void {
    if (AttentionPanel.current) {
      AttentionPanel.current.setCapture(source, capture, analysis, lab);
      AttentionPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(AttentionPanel.viewType, 'Attention', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    AttentionPanel.current = new AttentionPanel(panel, extensionUri, engine, source, capture, analysis, lab);
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
      const { capture, analysis } = await panelRun(engine, load, source);
      AttentionPanel.current?.dispose();
      AttentionPanel.current = new AttentionPanel(panel, extensionUri, engine, source, capture, analysis);
    } catch (e) {
      panel.dispose();
      void vscode.window.showWarningMessage(`Attention Lens: the attention panel could not be restored: ${(e as Error).message}`);
    }
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly engine: EngineClient,
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
    if (m.type === 'requestHeadMap') {
      void this.computeHeadMap(m.id);
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
    else if (m.words) {
      const sides = layerTokens(this.capture, this.capture.layers[m.layer].part);
      this.post({ type: 'headMatrix', id: m.id, ...wordLevelHead(sides.queries, sides.keys, matrix) });
    }
    else this.post({ type: 'headMatrix', id: m.id, matrix });
  }

  /** The head distances the analysis left out for their cost, on the user's request, in the engine. */
  private async computeHeadMap(id: number): Promise<void> {
    const analysis = this.analysis;
    if (!analysis?.headDistanceSkipped || this.source.corpus) {
      this.post({ type: 'error', id, message: 'no head distances to compute for this result' });
      return;
    }
    const layers = this.capture.layers.map(({ name, part, heads, queries, keys, probs }) => ({ name, part, heads, queries, keys, probs }));
    try {
      const map = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Attention Lens: mapping the heads by Jensen-Shannon distance', cancellable: true },
        (_progress, token) => {
          token.onCancellationRequested(() => this.engine.cancel());
          return this.engine.headMap({ layers, causal: analysis.causal });
        },
      );
      if (this.analysis !== analysis) return; // another capture came meanwhile
      this.analysis = { ...analysis, headDistance: map, headDistanceSkipped: undefined };
      this.post({ type: 'summary', summary: this.summary() });
    } catch (e) {
      this.post({ type: 'error', id, message: (e as Error).message });
    }
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
