// The memory panel: what the mode holds, each kind of attention in the model, and memory
// against sequence length for the model's own attention and the six methods, with the user's n
// marked. It follows the edits of the config it was opened from, and its controls set n,
// batch, dtype, mode and the kernel.
import * as vscode from 'vscode';
import { AttentionShape, validShape } from '../memory/attentionMemory';
import { EstimateNotes, memoryChart, siteEstimate } from '../memory/memoryReport';
import { MemoryControls, MemorySource, WebviewState, isMemoryViewMessage, isWebviewMessage } from '../protocol';
import type { ConfigScanCache } from './memoryLens';
import { estimateSettingsWith, withControls } from './settings';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

// Typing in the config redraws the panel once the edits pause.
const FOLLOW_DELAY_MS = 150;

export class MemoryPanel {
  static readonly viewType = 'attentionLens.memory';
  private static current: MemoryPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** the controls the user changed in the panel: they win over the settings and the file */
  private controls: Partial<MemoryControls> = {};
  private notes: EstimateNotes = {};
  private problem: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  static show(extensionUri: vscode.Uri, scans: ConfigScanCache, shape: AttentionShape, source?: MemorySource): void {
    if (MemoryPanel.current) {
      MemoryPanel.current.follow(shape, source);
      MemoryPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(MemoryPanel.viewType, 'Attention Memory', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    MemoryPanel.current = new MemoryPanel(panel, extensionUri, scans, shape, source);
  }

  /** A panel restored after a reload, from the estimate's input (and the config it followed) kept in its state. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, scans: ConfigScanCache, state: WebviewState | undefined): void {
    panel.webview.options = webviewOptions(extensionUri);
    try {
      const shape = validShape(state?.memoryShape as unknown as AttentionShape);
      MemoryPanel.current?.dispose();
      MemoryPanel.current = new MemoryPanel(panel, extensionUri, scans, shape, state?.memorySource);
    } catch {
      panel.dispose();
    }
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly scans: ConfigScanCache,
    private shape: AttentionShape,
    private source: MemorySource | undefined,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'Attention Memory');
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => {
      if (isMemoryViewMessage(m)) {
        this.controls = { seq: m.seq, batch: m.batch, dtype: m.dtype, mode: m.mode, fusedKernel: m.fusedKernel };
        this.recompute();
      } else if (!isWebviewMessage(m)) return;
      else if (m.type === 'ready') this.recompute();
      else if (m.type === 'export') void saveExport(m.fileName, m.content, m.base64);
    }, undefined, this.disposables);
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() !== this.source?.uri) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.recompute(), FOLLOW_DELAY_MS);
    }, undefined, this.disposables);
    // a large config's scan comes back from its thread after the edit
    scans.onDidScan((doc) => {
      if (doc.uri.toString() === this.source?.uri) this.recompute();
    }, undefined, this.disposables);
  }

  private follow(shape: AttentionShape, source: MemorySource | undefined): void {
    this.shape = shape;
    this.source = source;
    this.controls = {};
    this.recompute();
  }

  /** The estimate again: from the followed config as it now reads, else from the shape; the panel's controls applied. */
  private recompute(): void {
    const c = this.controls;
    const doc = this.source && vscode.workspace.textDocuments.find((d) => d.uri.toString() === this.source!.uri);
    this.problem = undefined;
    if (doc && this.source) {
      const scan = this.scans.scan(doc);
      const site = scan.sites[this.source.index] ?? scan.sites[0];
      const e = site ? siteEstimate(site, estimateSettingsWith(c), scan.training) : { problem: scan.problems[0] ?? 'the file holds no model configuration now' };
      if ('problem' in e) this.problem = e.problem;
      else {
        this.shape = e.shape;
        this.notes = e.notes;
      }
    } else if (Object.keys(c).length) {
      const shape = withControls(this.shape, c);
      // a value the estimate refuses keeps the last figures, and the panel says why
      try {
        this.shape = validShape(shape);
        this.notes = {};
      } catch (e) {
        this.problem = (e as Error).message;
      }
    }
    const chart = { ...memoryChart(this.shape, this.notes), ...(this.source ? { source: this.source } : {}), ...(this.problem ? { problem: this.problem } : {}) };
    void this.panel.webview.postMessage({ type: 'memory', chart });
  }

  dispose(): void {
    MemoryPanel.current = undefined;
    clearTimeout(this.timer);
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
