// The compare panel: two attention panels' captures side by side. It holds no capture of its own:
// it shows the two panels' summaries, follows them when they show another capture, and asks the
// engine for the same head of both through each panel (which makes its capture again if the
// engine let it go). When either panel closes, its capture is gone and the panel says so. It is
// not restored after a reload (no serializer): the panels it compares are run again on their own,
// so it closes with the window.
import * as vscode from 'vscode';
import type { EngineClient } from '../engine/engineClient';
import { HostMessage, PanelHandlers, isWebviewMessage, panelReply, textPreview } from '../protocol';
import type { AttentionPanel } from './attentionPanel';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

// each panel's title ("Attention: tiny-bert · the quick brown…") cut to this in the compare panel's
const TITLE_CHARS = 40;

/** "Compare: A ↔ B" from the two panels' titles, without their "Attention: ". */
const compareTitle = (first: AttentionPanel, second: AttentionPanel): string => {
  const short = (p: AttentionPanel): string => textPreview((p.compared?.title ?? '').replace(/^Attention:\s*/, ''), TITLE_CHARS);
  return `Compare: ${short(first)} ↔ ${short(second)}`;
};

export class ComparePanel {
  static readonly viewType = 'attentionLens.compare';
  private readonly disposables: vscode.Disposable[] = [];
  /** why the panel compares no more: one of its panels closed */
  private gone?: string;

  /** Opens a panel beside the editor comparing `first`'s capture with `second`'s. */
  static show(extensionUri: vscode.Uri, engine: EngineClient, first: AttentionPanel, second: AttentionPanel): void {
    const panel = vscode.window.createWebviewPanel(ComparePanel.viewType, compareTitle(first, second), vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    new ComparePanel(panel, extensionUri, engine, first, second);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly engine: EngineClient,
    private readonly first: AttentionPanel,
    private readonly second: AttentionPanel,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'Compare');
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.received(m), undefined, this.disposables);
    for (const [shown, which] of [[first, 'first'], [second, 'second']] as const) {
      shown.onDidSetCapture(() => this.followed(), undefined, this.disposables);
      shown.onDidDispose(() => this.closed(shown, which), undefined, this.disposables);
    }
  }

  /** Either panel showed another capture: the comparison is of it now. */
  private followed(): void {
    if (this.gone) return;
    this.panel.title = compareTitle(this.first, this.second);
    this.postCompare();
  }

  private closed(panel: AttentionPanel, which: 'first' | 'second'): void {
    const title = panel.compared?.title ?? `the ${which} analysis`;
    this.gone ??= `${title} was closed: its capture is gone, so there is nothing to compare. Open it again and compare with… from its panel.`;
    this.post({ type: 'notice', message: this.gone });
  }

  private postCompare(): void {
    const [a, b] = [this.first.compared, this.second.compared];
    if (a && b) this.post({ type: 'compare', compare: { first: a.summary, second: b.summary } });
  }

  private received(m: unknown): void {
    if (!isWebviewMessage(m)) return;
    if (m.type === 'ready') {
      if (this.gone) this.post({ type: 'notice', message: this.gone });
      else this.postCompare();
    } else if (m.type === 'export') void saveExport(m.fileName, m.content, m.base64);
    else if (m.type === 'request') void panelReply(this.handlers, m).then((reply) => reply && this.post(reply));
  }

  /**
   * The same window of the same head in both captures, each asked through its panel; unanswered
   * when either capture was replaced meanwhile (the new summaries follow, and the webview asks again).
   */
  private readonly handlers: PanelHandlers<'pair'> = {
    pair: async (params) => {
      if (this.gone) throw new Error(this.gone);
      const tile = (panel: AttentionPanel) => panel.fromEngine((capture) => this.engine.tile({ ...params, capture }));
      const [first, second] = await Promise.all([tile(this.first), tile(this.second)]);
      return first && second ? { first, second } : undefined;
    },
  };

  private post(msg: HostMessage): void {
    void this.panel.webview.postMessage(msg);
  }

  dispose(): void {
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
