// The attention panel (one class per panel, as in VS Code's webview sample): shows a capture's
// heads as heatmaps. The webview receives the summary first and asks for one head or one tile at
// a time; the capture stays in the engine, which answers by its id, so that this process (the
// extension host) never holds the probabilities.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisOptions, AttentionAnalysis } from '../analysis/attentionAnalysis';
import type { AttentionCapture } from '../analysis/attentionCapture';
import type { LabResult } from '../analysis/efficientAttentionLab';
import { captureSummary } from '../analysis/captureViews';
import { analyzedCorpus, corpusTexts } from '../engine/corpus';
import { EngineClient, EngineError } from '../engine/engineClient';
import type { LoadOptions } from '../model/capture';
import { CaptureSource, CaptureSummary, HostMessage, PanelHandlers, PanelMethod, isWebviewMessage, modelName, panelReply, textPreview } from '../protocol';
import { captureCacheBytes, executionProvider, headMapSeconds, panelPerRun } from './settings';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** What a panel shows: the source that made it, the capture (without its probabilities) and the id the engine keeps it under, its analysis and lab results. */
export interface Shown {
  source: CaptureSource;
  /** the ONNX file that ran (the source may name its folder) */
  modelPath: string;
  capture: AttentionCapture;
  captureId?: string;
  analysis?: AttentionAnalysis;
  lab?: LabResult;
}

/** How a source's model is loaded: with the tokenizer the user chose for it, if any. */
export const sourceLoad = (source: CaptureSource): LoadOptions => ({ model: source.model, executionProvider: executionProvider(), ...(source.tokenizer ? { tokenizer: source.tokenizer } : {}) });

/** The panel opens without the head distances when they would take longer than the setting on the engine's threads; it offers them then. */
const panelAnalysis = (): AnalysisOptions => ({ headDistanceSeconds: headMapSeconds() });

/**
 * What the panel shows for a source, run in the engine and kept there: one text, or a corpus
 * (statistics over its texts, heatmaps of the first). A text longer than the model's positions
 * is cut, with a warning.
 */
export async function panelRun(
  engine: EngineClient,
  load: LoadOptions,
  source: CaptureSource,
  run: { texts?: readonly string[]; onText?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<Shown & { analysis: AttentionAnalysis }> {
  const capture = { layers: source.layers, truncate: true, ...(source.targetText !== undefined ? { targetText: source.targetText } : {}), ...(source.inputFeatures ? { inputFeatures: source.inputFeatures } : {}) };
  const keep = { budgetBytes: captureCacheBytes() };
  if (!source.corpus) {
    const r = await engine.analyze({ load, capture: { ...capture, ...(source.probe ? { probe: source.probe } : source.ids ? { ids: source.ids } : { text: source.text }) }, analysis: panelAnalysis(), lab: source.lab, returnAttention: false, keep });
    return { source, modelPath: r.modelPath, capture: r.capture, captureId: r.captureId, analysis: r.analysis, lab: r.lab };
  }
  const texts = run.texts ?? corpusTexts(source.corpus);
  const r = await analyzedCorpus(engine, load, texts, { capture, analysis: panelAnalysis(), keepFirst: keep }, run.onText ?? (() => undefined), run.signal);
  return { source, modelPath: r.modelPath, capture: r.first, captureId: r.firstCaptureId, analysis: r.analysis };
}

/** What a panel needs of the extension: where its files are, the engine, and how to run its model again on another text. */
export interface PanelHost {
  extensionUri: vscode.Uri;
  engine: EngineClient;
  /** the extension's own specimen folder, named "specimen" in the header */
  specimenFolder: string;
  /** the panel's "Run again with…": another text for the model it shows, into this panel */
  runAgain(panel: AttentionPanel, source: CaptureSource): void;
  /** the Methods tab's "Run the lab": the panel's text again with the efficient-attention lab, into this panel */
  runLab(panel: AttentionPanel, source: CaptureSource): void;
  /** the header's "Compare with…": this panel's capture beside another open panel's */
  compareWith(panel: AttentionPanel): void;
}

const TITLE_TEXT_CHARS = 24;

/** What a source read, in a few words: the start of its text or ids, the corpus's name, or the induction probe. */
const sourceWords = (source: CaptureSource): string =>
  source.probe ? 'induction probe' : source.corpus ? modelName(source.corpus) : textPreview(source.ids ? source.ids.join(' ') : source.text, TITLE_TEXT_CHARS);

export class AttentionPanel {
  static readonly viewType = 'attentionLens.attention';
  /** the open panels, the most recently shown last: a run that does not open its own replaces the last one's */
  private static readonly open: AttentionPanel[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  /** Shows a run: in a panel of its own, or (attentionLens.panelPerRun off) in the last one shown. */
  static show(host: PanelHost, shown: Shown): AttentionPanel {
    const last = AttentionPanel.open.at(-1);
    if (last && !panelPerRun()) {
      last.setCapture(shown);
      last.panel.reveal();
      return last;
    }
    // beside the editor the first time, then as a tab beside the other panels: not a new split per run
    const column = last?.panel.viewColumn ?? vscode.ViewColumn.Beside;
    const panel = vscode.window.createWebviewPanel(AttentionPanel.viewType, 'Attention', column, webviewOptions(host.extensionUri));
    const opened = new AttentionPanel(panel, host);
    opened.setCapture(shown);
    return opened;
  }

  /**
   * A panel VS Code restored after a reload, before its analysis runs again (through the command's
   * path: trust, progress, cancel); until then, or if it may not run, it shows a notice.
   */
  static restored(panel: vscode.WebviewPanel, host: PanelHost): AttentionPanel {
    panel.webview.options = webviewOptions(host.extensionUri);
    return new AttentionPanel(panel, host);
  }

  private readonly engine: EngineClient;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly host: PanelHost,
  ) {
    this.engine = host.engine;
    panel.webview.html = webviewHtml(panel.webview, host.extensionUri, 'Attention');
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.received(m), undefined, this.disposables);
    panel.onDidChangeViewState((e) => e.webviewPanel.active && this.lastShown(), undefined, this.disposables);
    AttentionPanel.open.push(this);
  }

  /** The panel shown or focused last, if one is open: the one Export HTML Report writes. */
  static last(): AttentionPanel | undefined {
    return AttentionPanel.open.at(-1);
  }

  /** The name a report of this panel is offered under: the model's and the text's. */
  get reportName(): string | undefined {
    const shown = this.shown;
    if (!shown) return undefined;
    return `${this.modelLabel(shown).name}-${sourceWords(shown.source)}`.replace(/[^\w.-]+/g, '-').replace(/-+$/, '');
  }

  /**
   * Writes the standalone HTML report (the CLI's --html) of what the panel shows: in the engine,
   * which holds the probabilities; a capture it let go is made again first.
   */
  async writeReport(path: string): Promise<void> {
    const shown = this.shown;
    if (!shown?.captureId || !shown.analysis) throw new Error('this panel holds no capture: run the analysis again');
    const ext = this.host.extensionUri.fsPath;
    const files = { webviewBundle: join(ext, 'dist', 'webview.js'), reportHost: join(ext, 'dist', 'reportHost.js'), css: join(ext, 'media', 'attention.css') };
    const analysis = shown.analysis;
    const report = (capture: string): Promise<null> => this.engine.report({ capture, path, modelPath: shown.modelPath, analysis, lab: shown.lab, files });
    try {
      await report(shown.captureId);
    } catch (e) {
      if (!(e instanceof EngineError && e.kind === 'gone')) throw e;
      this.rerun ??= this.runAgain(shown).finally(() => (this.rerun = undefined));
      const captureId = await this.rerun;
      if (!captureId) throw new Error('the capture was not made again: run the analysis again');
      await report(captureId);
    }
  }

  /** What the panel shows, for a compare panel to set beside another's: its summary and title; none before a capture. */
  get compared(): { summary: CaptureSummary; title: string } | undefined {
    return this.shown && { summary: this.summary(this.shown), title: this.panel.title };
  }

  /** The other open panels that show a capture: what this one can be compared with. */
  static others(panel: AttentionPanel): AttentionPanel[] {
    return AttentionPanel.open.filter((p) => p !== panel && p.shown);
  }

  private readonly disposedListeners = new vscode.EventEmitter<void>();
  /** fires when the panel closes: a compare panel showing its capture says so */
  readonly onDidDispose = this.disposedListeners.event;
  private readonly captureListeners = new vscode.EventEmitter<void>();
  /** fires when the panel shows another capture (a run in place, a head map): a compare panel showing it follows */
  readonly onDidSetCapture = this.captureListeners.event;

  /** Makes this the panel that a run without a panel of its own goes to. */
  private lastShown(): void {
    const open = AttentionPanel.open;
    const at = open.indexOf(this);
    if (at >= 0) open.push(...open.splice(at, 1));
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
    if (this.shown?.captureId && this.shown.captureId !== shown.captureId) this.engine.release(this.shown.captureId);
    this.shown = shown;
    this.pendingNotice = undefined;
    // "Attention: tiny-bert-mlm · the quick brown…"
    this.panel.title = `Attention: ${this.modelLabel(shown).name} · ${sourceWords(shown.source)}`;
    this.lastShown();
    this.post({ type: 'summary', summary: this.summary(shown) });
    this.captureListeners.fire();
  }

  /** The built-in specimen is "specimen", not the path of the extension's folder. */
  private modelLabel(shown: Shown): { name: string; detail: string } {
    const specimen = shown.source.model === this.host.specimenFolder;
    return specimen ? { name: 'specimen', detail: 'the built-in specimen: 3 layers of 4 hand-built heads' } : { name: modelName(shown.modelPath), detail: shown.modelPath };
  }

  private summary(shown: Shown): CaptureSummary {
    return { ...captureSummary(shown.modelPath, shown.capture, shown.analysis, shown.lab), source: shown.source, modelLabel: this.modelLabel(shown) };
  }

  private received(m: unknown): void {
    if (!isWebviewMessage(m)) return;
    if (m.type === 'ready') {
      if (this.shown) this.post({ type: 'summary', summary: this.summary(this.shown) });
      else if (this.pendingNotice) this.post({ type: 'notice', ...this.pendingNotice });
      return;
    }
    if (m.type === 'runAgain' || m.type === 'runLab') {
      const source = this.shown?.source ?? this.pendingNotice?.source;
      if (source && m.type === 'runAgain') this.host.runAgain(this, source);
      else if (source) this.host.runLab(this, source);
      return;
    }
    if (m.type === 'compareWith') return this.host.compareWith(this);
    if (m.type === 'export') {
      void saveExport(m.fileName, m.content, m.base64);
      return;
    }
    void panelReply(this.handlers, m).then((reply) => reply && this.post(reply));
  }

  /** The webview's requests (all but the compare panel's), answered from the engine for the capture the panel shows. */
  private readonly handlers: PanelHandlers<Exclude<PanelMethod, 'pair'>> = {
    head: (params) => this.fromEngine((capture) => this.engine.head({ ...params, capture })),
    tile: (params) => this.fromEngine((capture) => this.engine.tile({ ...params, capture })),
    headMap: () => this.withHeadMap(),
    window: (params) => this.fromEngine((capture) => this.engine.window({ ...params, capture })),
    tokenRow: (params) => this.fromEngine((capture) => this.engine.tokenRow({ ...params, capture })),
    buckets: (params) => this.fromEngine((capture) => this.engine.buckets({ ...params, capture })),
  };

  /**
   * What the engine answers for the panel's capture; undefined for a capture replaced while the
   * request travelled (the webview asks again for the new one). A capture the engine let go
   * (evicted for newer ones, or an engine that restarted) is made again first, once for all the
   * requests that found it gone, with a progress notification.
   */
  async fromEngine<T>(ask: (captureId: string) => Promise<T>): Promise<T | undefined> {
    const shown = this.shown;
    if (!shown?.captureId) throw new Error('this panel holds no capture: run the analysis again');
    try {
      return await ask(shown.captureId);
    } catch (e) {
      if (!(e instanceof EngineError && e.kind === 'gone')) throw e;
    }
    if (this.shown !== shown) return undefined;
    this.rerun ??= this.runAgain(shown).finally(() => (this.rerun = undefined));
    const captureId = await this.rerun;
    if (!captureId) throw new Error('the capture was not made again: run the analysis again');
    return ask(captureId);
  }

  /** The re-run under way, which the requests that found the capture gone all wait for. */
  private rerun?: Promise<string | undefined>;

  /** The panel's source run again into the engine, with its progress and Cancel; the panel keeps the new capture's id. */
  private async runAgain(shown: Shown): Promise<string | undefined> {
    const again = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Attention Lens: the engine no longer holds this capture: running it again', cancellable: true },
      (_progress, token) => {
        token.onCancellationRequested(() => this.engine.cancel());
        return panelRun(this.engine, sourceLoad(shown.source), shown.source);
      },
    );
    // another capture came meanwhile, or the panel closed: this one is not needed
    if (this.shown !== shown || this.disposed) {
      if (again.captureId) this.engine.release(again.captureId);
      return undefined;
    }
    // the statistics shown stay as they were (a corpus's cover all its texts); only the id is new
    this.shown = { ...shown, captureId: again.captureId };
    return again.captureId;
  }

  /**
   * The summary with the head distances the analysis left out for their cost, computed in the
   * engine on the user's request and kept with what the panel shows; undefined when another
   * capture came meanwhile (its summary replaced the offer).
   */
  private async withHeadMap(): Promise<CaptureSummary | undefined> {
    const shown = this.shown;
    const analysis = shown?.analysis;
    if (!shown || !analysis?.headDistanceSkipped || shown.source.corpus) throw new Error('no head distances to compute for this result');
    const map = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Attention Lens: mapping the heads by Jensen-Shannon distance', cancellable: true },
      (_progress, token) => {
        token.onCancellationRequested(() => this.engine.cancel());
        return this.fromEngine((capture) => this.engine.headMap({ capture }));
      },
    );
    if (!map || this.shown?.analysis !== analysis) return undefined;
    this.shown = { ...this.shown, analysis: { ...analysis, headDistance: map, headDistanceSkipped: undefined } };
    return this.summary(this.shown);
  }

  private post(msg: HostMessage): void {
    void this.panel.webview.postMessage(msg);
  }

  private disposed = false;

  dispose(): void {
    this.disposed = true;
    this.disposedListeners.fire();
    this.disposedListeners.dispose();
    this.captureListeners.dispose();
    if (this.shown?.captureId) this.engine.release(this.shown.captureId);
    const at = AttentionPanel.open.indexOf(this);
    if (at >= 0) AttentionPanel.open.splice(at, 1);
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
