// The attention panel (one class per panel, as in VS Code's webview sample): shows a capture's
// heads as heatmaps. The webview receives the summary first and asks for one head at a time.
import * as vscode from 'vscode';
import type { AttentionAnalysis } from '../analysis/attentionAnalysis';
import { AttentionCapture, layerTokens } from '../analysis/attentionCapture';
import type { LabResult } from '../analysis/efficientAttentionLab';
import { HEAD_DISTANCE_NS_PER_WORK } from '../analysis/headDistance';
import { captureSummary, headMatrix, headTile, wordLevelHead } from '../analysis/captureViews';
import { analyzedCorpus, corpusTexts } from '../engine/corpus';
import type { EngineClient } from '../engine/engineClient';
import type { LoadOptions } from '../model/capture';
import { CaptureSource, CaptureSummary, HostMessage, isWebviewMessage } from '../protocol';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** The panel opens without the head distances when they would take more than about 2 s; it offers them then. */
/** What a panel shows: the source that made it, the capture, its analysis and lab results. */
export interface Shown {
  source: CaptureSource;
  capture: AttentionCapture;
  analysis?: AttentionAnalysis;
  lab?: LabResult;
}

const PANEL_ANALYSIS = { headDistanceBudget: 2e9 / HEAD_DISTANCE_NS_PER_WORK };

/**
 * What the panel shows for a source, run in the engine: one text, or a corpus (statistics over its
 * texts, heatmaps of the first). A text longer than the model's positions is cut, with a warning.
 */
export async function panelRun(
  engine: EngineClient,
  load: LoadOptions,
  source: CaptureSource,
  run: { texts?: readonly string[]; onText?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<{ capture: AttentionCapture; analysis: AttentionAnalysis; lab?: LabResult }> {
  const capture = { layers: source.layers, truncate: true, ...(source.targetText !== undefined ? { targetText: source.targetText } : {}) };
  if (!source.corpus) return engine.analyze({ load, capture: { ...capture, ...(source.ids ? { ids: source.ids } : { text: source.text }) }, analysis: PANEL_ANALYSIS, lab: source.lab, returnAttention: true });
  const texts = run.texts ?? corpusTexts(source.corpus);
  const r = await analyzedCorpus(engine, load, texts, { capture, analysis: PANEL_ANALYSIS, returnFirstAttention: true }, run.onText ?? (() => undefined), run.signal);
  return { capture: r.first, analysis: r.analysis };
}

export class AttentionPanel {
  static readonly viewType = 'attentionLens.attention';
  private static current: AttentionPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, engine: EngineClient, shown: Shown): void {
    if (AttentionPanel.current) {
      AttentionPanel.current.setCapture(shown);
      AttentionPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(AttentionPanel.viewType, 'Attention', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    AttentionPanel.current = new AttentionPanel(panel, extensionUri, engine);
    AttentionPanel.current.setCapture(shown);
  }

  /**
   * A panel VS Code restored after a reload, before its analysis runs again (through the command's
   * path: trust, progress, cancel); until then, or if it may not run, it shows a notice.
   */
  static restored(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, engine: EngineClient): AttentionPanel {
    panel.webview.options = webviewOptions(extensionUri);
    AttentionPanel.current?.dispose();
    AttentionPanel.current = new AttentionPanel(panel, extensionUri, engine);
    return AttentionPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly engine: EngineClient,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'Attention');
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.received(m), undefined, this.disposables);
  }

  private shown?: Shown;
  /** what the panel says instead of a capture, with the source it keeps for the next restore */
  private pendingNotice?: { message: string; source?: CaptureSource };

  /** Says why the panel holds no capture, keeping the source in its state. */
  notice(message: string, source?: CaptureSource): void {
    this.pendingNotice = { message, source };
    this.post({ type: 'notice', message, source });
  }

  setCapture(shown: Shown): void {
    this.shown = shown;
    this.pendingNotice = undefined;
    this.post({ type: 'summary', summary: this.summary(shown) });
  }

  private summary(shown: Shown): CaptureSummary {
    return { ...captureSummary(shown.source.model, shown.capture, shown.analysis, shown.lab), source: shown.source };
  }

  private received(m: unknown): void {
    if (!isWebviewMessage(m)) return;
    if (m.type === 'ready') {
      if (this.shown) this.post({ type: 'summary', summary: this.summary(this.shown) });
      else if (this.pendingNotice) this.post({ type: 'notice', ...this.pendingNotice });
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
    const shown = this.shown;
    if (!shown) return this.post({ type: 'error', id: m.id, message: 'this panel holds no capture: run the analysis again' });
    if (m.type === 'requestTile') {
      const tile = headTile(shown.capture, m.layer, m.head, m.q0, m.q1, m.k0, m.k1, m.maxCells);
      this.post(tile ? { type: 'headTile', id: m.id, tile } : { type: 'error', id: m.id, message: `no head ${m.head} in layer ${m.layer}` });
      return;
    }
    const matrix = headMatrix(shown.capture, m.layer, m.head);
    if (!matrix) this.post({ type: 'error', id: m.id, message: `no head ${m.head} in layer ${m.layer}` });
    else if (m.words) {
      const sides = layerTokens(shown.capture, shown.capture.layers[m.layer].part);
      this.post({ type: 'headMatrix', id: m.id, ...wordLevelHead(sides.queries, sides.keys, matrix) });
    }
    else this.post({ type: 'headMatrix', id: m.id, matrix });
  }

  /** The head distances the analysis left out for their cost, on the user's request, in the engine. */
  private async computeHeadMap(id: number): Promise<void> {
    const shown = this.shown;
    const analysis = shown?.analysis;
    if (!shown || !analysis?.headDistanceSkipped || shown.source.corpus) {
      this.post({ type: 'error', id, message: 'no head distances to compute for this result' });
      return;
    }
    const layers = shown.capture.layers.map(({ name, part, heads, queries, keys, probs }) => ({ name, part, heads, queries, keys, probs }));
    try {
      const map = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Attention Lens: mapping the heads by Jensen-Shannon distance', cancellable: true },
        (_progress, token) => {
          token.onCancellationRequested(() => this.engine.cancel());
          return this.engine.headMap({ layers, causal: analysis.causal });
        },
      );
      if (this.shown !== shown) return; // another capture came meanwhile
      this.setCapture({ ...shown, analysis: { ...analysis, headDistance: map, headDistanceSkipped: undefined } });
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
