// The analysis commands: Analyze Attention, Analyze Selection, Analyze Model, Analyze Corpus,
// Open Specimen Model, Compare Efficient Attention and Find Induction Heads. Each runs the capture
// and analysis in the engine process with a cancellable progress notification, logs what ran, and
// opens the attention panel.
import { basename, dirname, relative } from 'node:path';
import * as vscode from 'vscode';
import type { LabOptions } from '../analysis/efficientAttentionLab';
import { PROBE_LENGTH, ProbeOptions } from '../analysis/inductionProbe';
import { corpusTexts } from '../engine/corpus';
import { EngineClient, EngineError } from '../engine/engineClient';
import type { LoadOptions } from '../model/capture';
import type { CaptureSource } from '../protocol';
import { isInside, realPath } from '../model/userFiles';
import { AttentionPanel, Shown, panelRun } from './attentionPanel';
import { defaultModelPath, executionProvider, labSettings } from './settings';

const DEFAULT_TEXT = 'The quick brown fox jumps over the lazy dog. It barks, then it sleeps.';

export interface AnalysisContext {
  engine: EngineClient;
  log: vscode.LogOutputChannel;
  extensionUri: vscode.Uri;
  specimenFolder: string;
  /** where the recently analyzed models are remembered */
  recent: vscode.Memento;
  /** the status bar's report of the last run */
  ran(summary: string, provider: string): void;
}

const RECENT_KEY = 'attentionLens.recentModels';
const RECENT_MODELS = 5;

const workspaceRelative = (path: string): string => {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path));
  return folder ? relative(folder.uri.fsPath, path) : path;
};

/**
 * A model the user picks: the one in the settings, recent ones, the specimen, the workspace's
 * .onnx files and the folders that hold one beside a tokenizer, or one browsed to.
 */
async function pickedModel(ctx: AnalysisContext): Promise<string | undefined> {
  const onnx = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 50);
  const tokenizers = await vscode.workspace.findFiles('**/{tokenizer.json,vocab.txt}', '**/node_modules/**', 50);
  const tokenizerFolders = new Set(tokenizers.map((u) => dirname(u.fsPath)));
  // a model's folder: the .onnx file's, or its parent in optimum's onnx/ layout
  const folderOf = (file: string): string => (basename(dirname(file)) === 'onnx' ? dirname(dirname(file)) : dirname(file));
  const modelFolders = [...new Set(onnx.map((u) => folderOf(u.fsPath)))].filter((f) => tokenizerFolders.has(f));
  const configured = defaultModelPath();
  const recent = ctx.recent.get<string[]>(RECENT_KEY, []).filter((p) => p !== configured);
  const items = [
    ...(configured ? [{ label: `$(gear) ${basename(configured)}`, description: 'attentionLens.modelPath', detail: configured, path: configured }] : []),
    ...recent.map((path) => ({ label: `$(history) ${workspaceRelative(path)}`, description: 'recent', path })),
    { label: '$(beaker) Specimen model', description: 'built in: 3 layers of 4 hand-built heads', path: ctx.specimenFolder },
    ...modelFolders.map((path) => ({ label: `$(folder) ${workspaceRelative(path)}`, description: 'model folder (with its tokenizer)', path })),
    ...onnx.map((u) => ({ label: `$(file-binary) ${workspaceRelative(u.fsPath)}`, description: 'workspace', path: u.fsPath })),
    { label: '$(folder-opened) Browse for an .onnx file or model folder…', description: '', path: '' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Attention Lens: model to analyze', matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.path) return picked.path;
  const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, filters: { 'ONNX models': ['onnx'] } });
  return uri?.[0]?.fsPath;
}

function remember(ctx: AnalysisContext, modelPath: string): void {
  if (modelPath === ctx.specimenFolder) return;
  const recent = [modelPath, ...ctx.recent.get<string[]>(RECENT_KEY, []).filter((p) => p !== modelPath)].slice(0, RECENT_MODELS);
  void ctx.recent.update(RECENT_KEY, recent);
}

/** A corpus: the active plain-text file, a workspace .txt file, or a file or folder browsed to. */
async function pickedCorpus(): Promise<string | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const activePath = active && active.uri.scheme === 'file' && active.languageId === 'plaintext' ? active.uri.fsPath : undefined;
  const txt = (await vscode.workspace.findFiles('**/*.txt', '**/node_modules/**', 50)).map((u) => u.fsPath).filter((p) => p !== activePath);
  const items = [
    ...(activePath ? [{ label: `$(file) ${workspaceRelative(activePath)}`, description: 'active editor', path: activePath }] : []),
    ...txt.map((path) => ({ label: `$(file) ${workspaceRelative(path)}`, description: 'workspace', path })),
    { label: '$(folder-opened) Browse for a text file (one text per line) or a folder of .txt files…', description: '', path: '' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Attention Lens: corpus (one text per line, or a folder of .txt files)' });
  if (!picked) return undefined;
  if (picked.path) return picked.path;
  const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, filters: { Text: ['txt'] } });
  return uri?.[0]?.fsPath;
}

function selectedText(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  return editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
}

/** What the model reads: a text or, for a model without a tokenizer, token ids. */
interface AnalysisInput {
  text: string;
  ids?: number[];
  /** an encoder-decoder's decoder input after its start token */
  targetText?: string;
  /** the induction probe instead of the text */
  probe?: ProbeOptions;
}

/** Token ids typed as "1, 5, 9", or undefined when an entry is not a non-negative integer. */
function typedIds(v: string): number[] | undefined {
  const entries = v.split(',').map((x) => x.trim());
  const ids = entries.map(Number);
  return entries.some((x) => x === '') || ids.some((x) => !Number.isInteger(x) || x < 0) ? undefined : ids;
}

const askedText = (): Thenable<string | undefined> => vscode.window.showInputBox({ title: 'Attention Lens: text to analyze', value: DEFAULT_TEXT });

/**
 * The model is loaded (in the engine) before anything is asked, so that a model that cannot be
 * analysed says so first; one without a tokenizer is given token ids instead of a text.
 */
async function askedInput(ctx: AnalysisContext, modelPath: string, selected?: string): Promise<AnalysisInput | undefined> {
  if (!(await trusted(modelPath, ctx))) return undefined;
  let info;
  try {
    info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Attention Lens: loading ${basename(modelPath)}` }, () =>
      ctx.engine.load({ model: modelPath, executionProvider: executionProvider() }),
    );
  } catch (e) {
    ctx.log.error(`${modelPath}: ${(e as Error).message}`);
    void vscode.window.showErrorMessage(`Attention Lens: ${(e as Error).message}`, 'Show Log').then((choice) => choice && ctx.log.show());
    return undefined;
  }
  if (info.tokenizer) {
    const text = selected ?? (await askedText());
    if (!text) return undefined;
    if (!info.attention.some((a) => a.part === 'cross')) return { text };
    const targetText = await vscode.window.showInputBox({
      title: `Attention Lens: ${basename(info.path)} is an encoder-decoder: the target text its decoder reads after its start token (empty: the start token alone)`,
      placeHolder: 'the translation, summary or answer whose cross-attention to show',
      ignoreFocusOut: true,
    });
    return targetText === undefined ? undefined : { text, targetText };
  }
  const vocab = info.vocabSize;
  const ids = await vscode.window.showInputBox({
    title: `Attention Lens: ${basename(info.path)} has no tokenizer beside it: token ids to analyze (comma-separated)`,
    value: Array.from({ length: 8 }, (_, i) => i + 1).join(', '),
    // a list of ids is typed with care: a click elsewhere (a notification, the panel) does not drop it
    ignoreFocusOut: true,
    validateInput: (v) => {
      const parsed = typedIds(v);
      if (!parsed) return 'comma-separated non-negative integers, such as 1, 5, 9';
      if (vocab !== null && parsed.some((x) => x >= vocab)) return `ids below ${vocab}, the model's vocabulary`;
      return undefined;
    },
  });
  const parsed = ids === undefined ? undefined : typedIds(ids);
  return parsed && { text: parsed.join(' '), ids: parsed };
}

/** In an untrusted workspace no model of the workspace runs: say why and offer to trust it. */
/** The extension host's resident memory, for the log. */
const hostMemory = (): string => `${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB resident`;

/**
 * A model may run when the workspace is trusted, or when it is the extension's own (the
 * specimen): compared by real path, so that `<extension>/../workspace/model.onnx` or a link out
 * of the extension's folder is not the extension's.
 */
const mayRun = (modelPath: string, ctx: AnalysisContext): boolean => vscode.workspace.isTrusted || isInside(realPath(ctx.extensionUri.fsPath), realPath(modelPath));

async function trusted(modelPath: string, ctx: AnalysisContext): Promise<boolean> {
  if (mayRun(modelPath, ctx)) return true;
  const choice = await vscode.window.showWarningMessage(
    'Attention Lens runs no model from an untrusted workspace: an ONNX model is code that ONNX Runtime executes. Trust the workspace to analyze it; memory estimates work either way.',
    'Manage Workspace Trust',
  );
  if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

/** Which layers to capture: all by default; fewer let long sequences fit in memory. */
async function pickedLayers(names: string[]): Promise<number[] | undefined> {
  if (names.length <= 1) return names.map((_, i) => i);
  const items = names.map((name, index) => ({ label: `${index}: ${name}`, index, picked: true }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Attention Lens: layers to capture', canPickMany: true });
  return picked?.length ? picked.map((p) => p.index) : undefined;
}

/** Where a finished analysis goes: the shared panel, or the one a reload restored. */
type Present = (shown: Shown) => void;

/**
 * Runs one analysis with a cancellable progress notification (Cancel stops the engine process)
 * and logs what ran; errors show a message with a button to the log. Says whether it finished.
 */
async function withEngine(
  ctx: AnalysisContext,
  modelPath: string,
  title: string,
  run: (
    load: LoadOptions,
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    signal: AbortSignal,
  ) => Promise<{ shown: Shown; summary: string } | undefined>,
  present: Present,
): Promise<boolean> {
  const load = { model: modelPath, executionProvider: executionProvider() };
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Attention Lens: ${title}`, cancellable: true }, async (progress, token) => {
    // The engine is killed now; the signal keeps a run of several requests from starting another.
    const cancelled = new AbortController();
    token.onCancellationRequested(() => {
      cancelled.abort();
      ctx.engine.cancel();
    });
    const started = Date.now();
    // the extension host's memory before and after: the capture stays in the engine
    ctx.log.info(`${modelPath}: ${title}… (extension host ${hostMemory()})`);
    try {
      const done = await run(load, progress, cancelled.signal);
      if (!done) return false;
      const provider = done.shown.capture.executionProvider;
      const summary = `${done.summary}, ${Date.now() - started} ms`;
      ctx.log.info(`${modelPath}: ${summary}, provider ${provider} (extension host ${hostMemory()})`);
      for (const w of done.shown.capture.warnings) ctx.log.warn(`${modelPath}: ${w}`);
      ctx.ran(summary, provider);
      remember(ctx, modelPath);
      present(done.shown);
      return true;
    } catch (e) {
      const err = e as Error;
      if (err instanceof EngineError && err.kind === 'cancelled') {
        ctx.log.info(`${modelPath}: ${err.message}`);
        return false;
      }
      ctx.log.error(`${modelPath}: ${err.message}`);
      // Not awaited: the progress notification ends now, not when the message is dismissed.
      void vscode.window.showErrorMessage(`Attention Lens: ${err.message}`, 'Show Log').then((choice) => choice && ctx.log.show());
      return false;
    }
  });
}

const sharedPanel = (ctx: AnalysisContext): Present => (shown) => AttentionPanel.show(ctx.extensionUri, ctx.engine, shown);

/** One text (or ids), with the layers asked for or given, and the lab when asked. */
export async function runAnalysis(
  ctx: AnalysisContext,
  modelPath: string,
  input: AnalysisInput,
  opts: { askLayers: boolean; layers?: number[]; lab?: LabOptions },
  present: Present = sharedPanel(ctx),
): Promise<boolean> {
  if (!(await trusted(modelPath, ctx))) return false;
  return withEngine(
    ctx,
    modelPath,
    'capturing attention',
    async (load, _progress, signal) => {
      const info = await ctx.engine.load(load);
      const layers = opts.askLayers ? await pickedLayers(info.layerNames) : opts.layers;
      if ((opts.askLayers && !layers) || signal.aborted) return undefined;
      // the model as named (a folder pairs an encoder with its decoder): what a re-run loads again
      const source: CaptureSource = { model: modelPath, ...input, layers, ...(opts.lab ? { lab: opts.lab } : {}) };
      const shown = await panelRun(ctx.engine, load, source);
      const { capture } = shown;
      const heads = capture.layers.reduce((s, l) => s + l.heads, 0);
      const probe = capture.probe ? ` (the induction probe: ${capture.probe.length} random tokens shown twice, seed ${capture.probe.seed})` : '';
      return { shown, summary: `${capture.tokens.length} tokens${probe}, ${capture.layers.length} layers, ${heads} heads` };
    },
    present,
  );
}

/** Analyze Corpus: every text run on its own, statistics averaged; progress counts texts. */
async function runCorpus(ctx: AnalysisContext, modelPath: string, corpusPath: string, present: Present = sharedPanel(ctx)): Promise<boolean> {
  if (!(await trusted(modelPath, ctx))) return false;
  return withEngine(
    ctx,
    modelPath,
    `analyzing the corpus ${basename(corpusPath)}`,
    async (load, progress, signal) => {
      const texts = corpusTexts(corpusPath);
      await ctx.engine.load(load);
      const source: CaptureSource = { model: modelPath, text: texts[0], corpus: corpusPath };
      const onText = (done: number, total: number): void => progress.report({ message: `text ${done} of ${total}`, increment: 100 / total });
      const shown = await panelRun(ctx.engine, load, source, { texts, onText, signal });
      return { shown, summary: `corpus ${corpusPath}: ${texts.length} texts, ${shown.analysis.heads.length} heads` };
    },
    present,
  );
}

/**
 * A panel VS Code restores after a reload runs its analysis again as its command did (progress,
 * cancel, the corpus's too, the lab's options), and only where the model may run: in a workspace
 * that is not trusted it says so and runs nothing.
 */
export async function restorePanel(ctx: AnalysisContext, panel: vscode.WebviewPanel, source: CaptureSource | undefined): Promise<void> {
  if (!source) return panel.dispose();
  const restored = AttentionPanel.restored(panel, ctx.extensionUri, ctx.engine);
  const what = source.corpus ?? source.model;
  if (!mayRun(source.model, ctx)) {
    ctx.log.info(`${what}: not run again after the reload: the workspace is not trusted`);
    return restored.notice(
      `This panel showed ${workspaceRelative(what)}. It was not run again after the reload: the workspace is not trusted, and an ONNX model is code that ONNX Runtime executes. Trust the workspace, then run the analysis again.`,
      source,
    );
  }
  restored.notice(`Running ${workspaceRelative(what)} again after the reload…`, source);
  const present = (shown: Shown): void => restored.setCapture(shown);
  const ran = source.corpus
    ? await runCorpus(ctx, source.model, source.corpus, present)
    : await runAnalysis(ctx, source.model, { text: source.text, ids: source.ids, targetText: source.targetText, probe: source.probe }, { askLayers: false, layers: source.layers, lab: source.lab }, present);
  if (!ran) restored.notice(`${workspaceRelative(what)} was not run again after the reload (cancelled, or it failed: see the log). Run the analysis again to see it.`, source);
}

export function analysisCommands(ctx: AnalysisContext): Record<string, (...args: unknown[]) => Promise<void>> {
  return {
    'attentionLens.analyzeAttention': async () => {
      const model = await pickedModel(ctx);
      const input = model && (await askedInput(ctx, model, selectedText()));
      if (model && input) await runAnalysis(ctx, model, input, { askLayers: true });
    },
    'attentionLens.analyzeSelection': async () => {
      const text = selectedText();
      if (!text) return void vscode.window.showInformationMessage('Attention Lens: select the text to analyze first.');
      const model = await pickedModel(ctx);
      if (model) await runAnalysis(ctx, model, { text }, { askLayers: true });
    },
    'attentionLens.analyzeModel': async (uri: unknown) => {
      const model = uri instanceof vscode.Uri ? uri.fsPath : await pickedModel(ctx);
      const input = model && (await askedInput(ctx, model));
      if (model && input) await runAnalysis(ctx, model, input, { askLayers: true });
    },
    'attentionLens.openSpecimen': async () => void (await runAnalysis(ctx, ctx.specimenFolder, { text: DEFAULT_TEXT }, { askLayers: false })),
    'attentionLens.compareEfficientAttention': async () => {
      const model = await pickedModel(ctx);
      const input = model && (await askedInput(ctx, model, selectedText()));
      if (!model || !input) return;
      const head = await vscode.window.showInputBox({
        title: 'Attention Lens: head whose LSH buckets and routing clusters to show (LAYER:HEAD)',
        value: '0:0',
        validateInput: (v) => (/^\d+:\d+$/.test(v) ? undefined : 'LAYER:HEAD, such as 1:3'),
      });
      if (!head) return;
      const [layer, h] = head.split(':').map(Number);
      await runAnalysis(ctx, model, input, { askLayers: false, lab: { ...labSettings(), head: { layer, head: h } } });
    },
    // the repeated random tokens on every layer; the panel opens coloured by the induction score
    'attentionLens.findInductionHeads': async () => {
      const model = await pickedModel(ctx);
      if (model) await runAnalysis(ctx, model, { text: '', probe: { length: PROBE_LENGTH, seed: labSettings().seed } }, { askLayers: false });
    },
    'attentionLens.analyzeCorpus': async (uri: unknown) => {
      const corpus = uri instanceof vscode.Uri ? uri.fsPath : await pickedCorpus();
      const model = corpus && (await pickedModel(ctx));
      if (model && corpus) await runCorpus(ctx, model, corpus);
    },
  };
}
