// Inline estimates where users write model configs: a CodeLens above each recognised config
// and a hover with dense attention against the six methods.
import * as vscode from 'vscode';
import type { TreeFragment } from '@lezer/common';
import { ConfigLanguage, ConfigScan, configSites, fragmentsAfter, treeFragments } from '../memory/configSites';
import { siteEstimate } from '../memory/memoryReport';
import { DIM_KEYS } from '../memory/modelDims';
import { affectsEstimates, configScanLimitChars, estimateSettings } from './settings';

export const MEMORY_LANGUAGES: readonly string[] = ['json', 'jsonc', 'yaml', 'python'];
export const SHOW_MEMORY_COMMAND = 'attentionLens.showMemory';
// The hover answers on a config's first line and on the lines that set its sizes.
const DIM_KEY_PATTERN = new RegExp(`\\b(${Object.values(DIM_KEYS).flat().join('|')})\\b`, 'i');

const languageOf = (doc: vscode.TextDocument): ConfigLanguage | undefined =>
  doc.languageId === 'python' ? 'python' : doc.languageId === 'yaml' ? 'yaml' : doc.languageId.startsWith('json') ? 'json' : undefined;

/**
 * One scan per document version, shared by the CodeLens and the hover. Python documents keep
 * their syntax tree, and edits carry its unchanged fragments forward to an incremental parse.
 */
export class ConfigScanCache implements vscode.Disposable {
  private readonly scans = new Map<string, { version: number; scan: ConfigScan }>();
  private readonly fragments = new Map<string, readonly TreeFragment[]>();
  private readonly disposables: vscode.Disposable[];

  constructor() {
    this.disposables = [
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
    ];
  }

  scan(doc: vscode.TextDocument): ConfigScan {
    const key = doc.uri.toString();
    const cached = this.scans.get(key);
    if (cached?.version === doc.version) return cached.scan;
    const language = languageOf(doc);
    let scan: ConfigScan;
    // a scan runs on the extension host: a file larger than the limit is left alone, and says so
    const chars = doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
    const limit = configScanLimitChars();
    try {
      if (language && chars > limit) scan = { sites: [], problems: [`this file is ${(chars / 2 ** 20).toFixed(1)} MiB, more than the ${(limit / 2 ** 20).toFixed(1)} MiB scanned for model configurations (attentionLens.configScanLimitKiB)`] };
      else scan = language ? configSites(doc.getText(), language, this.fragments.get(key)) : { sites: [], problems: [] };
    } catch (e) {
      // A parser's own failure must not reach the editor: the file is reported as unreadable.
      scan = { sites: [], problems: [`the file could not be read (${(e as Error).message})`] };
    }
    this.scans.set(key, { version: doc.version, scan });
    if (scan.tree) this.fragments.set(key, treeFragments(scan.tree));
    return scan;
  }

  private edited(e: vscode.TextDocumentChangeEvent): void {
    const key = e.document.uri.toString();
    const fragments = this.fragments.get(key);
    if (!fragments || e.contentChanges.length === 0) return;
    this.fragments.set(
      key,
      fragmentsAfter(
        fragments,
        e.contentChanges.map((c) => ({ from: c.rangeOffset, to: c.rangeOffset + c.rangeLength, insertedLength: c.text.length })),
      ),
    );
  }

  private forget(doc: vscode.TextDocument): void {
    this.scans.delete(doc.uri.toString());
    this.fragments.delete(doc.uri.toString());
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

export class MemoryLensProvider implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly cache: ConfigScanCache) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsEstimates(e)) this.changed.fire();
      }),
    );
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const scan = this.cache.scan(doc);
    const lenses = scan.sites.map((site) => {
      const range = doc.lineAt(doc.positionAt(site.from).line).range;
      const e = siteEstimate(site, estimateSettings());
      return 'problem' in e
        ? new vscode.CodeLens(range, { title: `Attention Lens: ${e.problem}`, command: '' })
        : new vscode.CodeLens(range, { title: e.title, command: SHOW_MEMORY_COMMAND, arguments: [e.shape], tooltip: 'Open the attention memory panel' });
    });
    // A file that does not parse says so where a lens would stand, when it names model sizes.
    if (scan.problems.length && /hidden_size|num_attention_heads|n_head|d_model|num_heads/.test(doc.getText())) {
      lenses.push(new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: `Attention Lens: ${scan.problems[0]}`, command: '' }));
    }
    return lenses;
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const offset = doc.offsetAt(position);
    const line = doc.lineAt(position.line).text;
    const site = this.cache
      .scan(doc)
      .sites.find((s) => offset >= s.from && offset <= s.to && (doc.positionAt(s.from).line === position.line || DIM_KEY_PATTERN.test(line)));
    if (!site) return undefined;
    const e = siteEstimate(site, estimateSettings());
    const md = new vscode.MarkdownString('problem' in e ? `Attention Lens: ${e.problem}` : e.markdown);
    return new vscode.Hover(md, doc.lineAt(position.line).range);
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
