// Inline estimates where users write model configs: a CodeLens above each recognised config
// and a hover with dense attention against the six methods.
import * as vscode from 'vscode';
import type { TreeFragment } from '@lezer/common';
import { ConfigLanguage, ConfigScan, configSites, fragmentsAfter, treeFragments } from '../memory/configSites';
import { OFF_THREAD_SCAN_CHARS, OffThreadScanner } from '../memory/offThreadScan';
import { siteEstimate } from '../memory/memoryReport';
import { DIM_KEYS, GEOMETRY_KEYS } from '../memory/modelDims';
import type { MemorySource } from '../protocol';
import { affectsEstimates, configScanLimitChars, estimateSettings } from './settings';

export const MEMORY_LANGUAGES: readonly string[] = ['json', 'jsonc', 'yaml', 'python'];
export const SHOW_MEMORY_COMMAND = 'attentionLens.showMemory';
// The hover answers on a config's first line and on the lines that set its sizes.
const DIM_KEY_PATTERN = new RegExp(`\\b(${[...Object.values(DIM_KEYS).flat(), ...GEOMETRY_KEYS].join('|')})\\b`, 'i');

const languageOf = (doc: vscode.TextDocument): ConfigLanguage | undefined =>
  doc.languageId === 'python' ? 'python' : doc.languageId === 'yaml' ? 'yaml' : doc.languageId.startsWith('json') ? 'json' : undefined;

// A parser's own failure must not reach the editor: the file is reported as unreadable.
const unreadable = (e: Error): ConfigScan => ({ sites: [], problems: [`the file could not be read (${e.message})`] });

/**
 * One scan per document version, shared by the CodeLens, the hover and the memory panel. Python
 * documents keep their syntax tree, and edits carry its unchanged fragments forward to an
 * incremental parse. A large document is scanned on a worker thread: until its scan comes back
 * the last one stands (or none), and onDidScan says when it has.
 */
export class ConfigScanCache implements vscode.Disposable {
  private readonly scans = new Map<string, { version: number; scan: ConfigScan }>();
  private readonly fragments = new Map<string, readonly TreeFragment[]>();
  private readonly scanning = new Map<string, number>();
  private readonly scanned = new vscode.EventEmitter<vscode.TextDocument>();
  readonly onDidScan = this.scanned.event;
  private readonly offThread: OffThreadScanner;
  private readonly disposables: vscode.Disposable[];

  /** `workerScript`: the bundled configScanWorker.js */
  constructor(workerScript: string) {
    this.offThread = new OffThreadScanner(workerScript);
    this.disposables = [
      this.scanned,
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
    ];
  }

  /** The document's scan: of this version, or of the last one while a large document's is under way. */
  scan(doc: vscode.TextDocument): ConfigScan {
    const key = doc.uri.toString();
    const cached = this.scans.get(key);
    if (cached?.version === doc.version) return cached.scan;
    const language = languageOf(doc);
    const chars = doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
    const limit = configScanLimitChars();
    // a file larger than the limit is left alone, and says so
    if (language && chars > limit) return this.kept(doc, { sites: [], problems: [`this file is ${(chars / 2 ** 20).toFixed(1)} MiB, more than the ${(limit / 2 ** 20).toFixed(1)} MiB scanned for model configurations (attentionLens.configScanLimitKiB)`] });
    if (!language) return this.kept(doc, { sites: [], problems: [] });
    // an edited Python file with its tree parses incrementally here, in milliseconds
    if (chars > OFF_THREAD_SCAN_CHARS && !(language === 'python' && this.fragments.has(key))) {
      if (this.scanning.get(key) !== doc.version) {
        const version = doc.version;
        this.scanning.set(key, version);
        void this.offThread.scan(doc.getText(), language).then(
          (scan) => this.arrived(doc, version, scan),
          (e: Error) => this.arrived(doc, version, unreadable(e)),
        );
      }
      return cached?.scan ?? { sites: [], problems: [] };
    }
    let scan: ConfigScan;
    try {
      scan = configSites(doc.getText(), language, this.fragments.get(key));
    } catch (e) {
      scan = unreadable(e as Error);
    }
    if (scan.tree) this.fragments.set(key, treeFragments(scan.tree));
    return this.kept(doc, scan);
  }

  private kept(doc: vscode.TextDocument, scan: ConfigScan): ConfigScan {
    this.scans.set(doc.uri.toString(), { version: doc.version, scan });
    return scan;
  }

  /** A worker's scan, kept unless the document moved on or closed meanwhile. */
  private arrived(doc: vscode.TextDocument, version: number, scan: ConfigScan): void {
    const key = doc.uri.toString();
    if (this.scanning.get(key) !== version) return;
    this.scanning.delete(key);
    if (doc.isClosed || doc.version !== version) return;
    this.kept(doc, scan);
    this.scanned.fire(doc);
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
    this.scanning.delete(doc.uri.toString());
  }

  dispose(): void {
    this.offThread.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

export class MemoryLensProvider implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  /** measured: for a config, the kept profile's line at n of a model beside it (src/editor/profileStore.ts), looked up once per document */
  constructor(
    private readonly cache: ConfigScanCache,
    private readonly measured: (configPath: string) => ((n: number) => string | undefined) | undefined = () => undefined,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsEstimates(e)) this.changed.fire();
      }),
      // a large document's scan came back from its thread
      cache.onDidScan(() => this.changed.fire()),
    );
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const scan = this.cache.scan(doc);
    const settings = estimateSettings();
    // the folder beside the config is read only where the file holds one
    const measuredAt = scan.sites.length ? this.measuredBeside(doc) : undefined;
    const lenses = scan.sites.map((site, index) => {
      const range = doc.lineAt(doc.positionAt(site.from).line).range;
      const e = siteEstimate(site, settings, scan.training);
      const source: MemorySource = { uri: doc.uri.toString(), index };
      return 'problem' in e
        ? new vscode.CodeLens(range, { title: `Attention Lens: ${e.problem}`, command: '' })
        : new vscode.CodeLens(range, { title: withMeasured(e.title, measuredAt?.(e.shape.seq)), command: SHOW_MEMORY_COMMAND, arguments: [e.shape, source], tooltip: 'Open the attention memory panel (it follows this config)' });
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
    const scan = this.cache.scan(doc);
    // the innermost config around the position (a text_config inside its model's mapping)
    const index = scan.sites.reduce<number>((best, s, i) => {
      const inside = offset >= s.from && offset <= s.to && (doc.positionAt(s.from).line === position.line || DIM_KEY_PATTERN.test(line));
      return inside && (best < 0 || s.to - s.from < scan.sites[best].to - scan.sites[best].from) ? i : best;
    }, -1);
    if (index < 0) return undefined;
    const e = siteEstimate(scan.sites[index], estimateSettings(), scan.training);
    if ('problem' in e) return new vscode.Hover(new vscode.MarkdownString(`Attention Lens: ${e.problem}`), doc.lineAt(position.line).range);
    const args = encodeURIComponent(JSON.stringify([e.shape, { uri: doc.uri.toString(), index } satisfies MemorySource]));
    const measured = this.measuredBeside(doc)?.(e.shape.seq);
    const md = new vscode.MarkdownString(`${e.markdown()}${measured ? `\n\nProfiled beside this config: ${measured}` : ''}\n\n[Open the memory panel](command:${SHOW_MEMORY_COMMAND}?${args})`);
    md.isTrusted = { enabledCommands: [SHOW_MEMORY_COMMAND] };
    return new vscode.Hover(md, doc.lineAt(position.line).range);
  }

  private measuredBeside(doc: vscode.TextDocument): ((n: number) => string | undefined) | undefined {
    return doc.uri.scheme === 'file' ? this.measured(doc.uri.fsPath) : undefined;
  }

  /** The lenses again: a profile was kept. */
  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

/** The lens's title with the measured figure of a profiled model beside the config, where there is one. */
const withMeasured = (title: string, measured: string | undefined): string => (measured ? `${title} · ${measured}` : title);
