// The analysis commands: Analyze Attention, Analyze Selection, Analyze Model, Analyze Corpus,
// Open Specimen Model, Compare Efficient Attention and Find Induction Heads. The model is loaded
// and checked as soon as it is picked, before a text is asked; the capture and analysis then run
// in the engine process (a cancellable progress notification when they last), what ran is
// logged, and each run opens an attention panel of its own.
import { basename, dirname, relative } from 'node:path';
import * as vscode from 'vscode';
import type { LabOptions } from '../analysis/efficientAttentionLab';
import { PROBE_LENGTH, ProbeOptions } from '../analysis/inductionProbe';
import { corpusTexts } from '../engine/corpus';
import { EngineClient, EngineError } from '../engine/engineClient';
import type { LoadOptions, ModelInfo } from '../model/capture';
import { InputError } from '../model/inputError';
import { CaptureSource, modelName, shapeMismatch } from '../protocol';
import { isInside, realPath } from '../model/userFiles';
import { AttentionPanel, PanelHost, Shown, panelRun, sourceLoad } from './attentionPanel';
import { ComparePanel } from './comparePanel';
import { FEATURES_KEY, TOKENIZERS_KEY, rememberFile, rememberedFile, takesFeatures } from './modelChoices';
import { isCorpusFile } from './modelFolders';
import { withQuietProgress } from './runProgress';
import { savedMessage } from './webviewExport';
import { alwaysAskLayers, captureCacheBytes, defaultModelPath, executionProvider, labSettings } from './settings';

const DEFAULT_TEXT = 'The quick brown fox jumps over the lazy dog. It barks, then it sleeps.';

export interface AnalysisContext {
  engine: EngineClient;
  log: vscode.LogOutputChannel;
  extensionUri: vscode.Uri;
  specimenFolder: string;
  /** where the recently analyzed models, the tokenizers chosen for models without one and an audio encoder's features are remembered */
  recent: vscode.Memento;
  /** the status bar's report of the last run: the model, what ran, the provider (and how it was chosen) */
  ran(model: string, summary: string, provider: string, providerLine?: string): void;
}

const RECENT_KEY = 'attentionLens.recentModels';
const RECENT_MODELS = 5;

const workspaceRelative = (path: string): string => {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path));
  return folder ? relative(folder.uri.fsPath, path) : path;
};

/** A model's folder: the .onnx file's, or its parent in optimum's onnx/ layout. */
const folderOf = (file: string): string => (basename(dirname(file)) === 'onnx' ? dirname(dirname(file)) : dirname(file));

/**
 * A model the user picks, each listed once: the one in the settings, the recent ones (most recent
 * first), the specimen, the workspace's models (a folder that holds a tokenizer beside its .onnx
 * files stands for them), or one browsed to.
 */
export async function pickedModel(ctx: AnalysisContext): Promise<string | undefined> {
  const onnx = (await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 50)).map((u) => u.fsPath);
  const tokenizers = await vscode.workspace.findFiles('**/{tokenizer.json,vocab.txt}', '**/node_modules/**', 50);
  const tokenizerFolders = new Set(tokenizers.map((u) => dirname(u.fsPath)));
  // the entry a file is listed under: its model folder when that holds a tokenizer
  const entry = (path: string): string => (path.endsWith('.onnx') && tokenizerFolders.has(folderOf(path)) ? folderOf(path) : path);
  const configured = defaultModelPath();
  const listed = new Set<string>();
  const once = (path: string): boolean => !listed.has(entry(path)) && !!listed.add(entry(path));
  type Item = vscode.QuickPickItem & { path: string };
  const items: Item[] = [];
  if (configured && once(configured)) items.push({ label: `$(gear) ${basename(configured)}`, description: 'attentionLens.modelPath', detail: configured, path: configured });
  for (const path of ctx.recent.get<string[]>(RECENT_KEY, [])) if (once(path)) items.push({ label: `$(history) ${workspaceRelative(path)}`, description: 'recent', path });
  items.push({ label: '$(beaker) Specimen model', description: 'built in: 3 layers of 4 hand-built heads', path: ctx.specimenFolder });
  for (const file of onnx) {
    const path = entry(file);
    if (!once(path)) continue;
    const folder = path !== file;
    items.push({ label: `$(${folder ? 'folder' : 'file-binary'}) ${workspaceRelative(path)}`, description: folder ? 'model folder (with its tokenizer)' : 'workspace', path });
  }
  items.push({ label: '$(folder-opened) Browse for an .onnx file or model folder…', description: '', path: '' });
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

/** A corpus: the active plain-text file, a workspace text file (not a tokenizer's), or a file or folder browsed to. */
async function pickedCorpus(): Promise<string | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const activePath = active && active.uri.scheme === 'file' && active.languageId === 'plaintext' && isCorpusFile(active.uri.fsPath) ? active.uri.fsPath : undefined;
  const txt = (await vscode.workspace.findFiles('**/*.txt', '**/node_modules/**', 50)).map((u) => u.fsPath).filter((p) => p !== activePath && isCorpusFile(p));
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

/** The editor's selection, unless it is only white space. */
function selectedText(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  const text = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
  return text?.trim() ? text : undefined;
}

/** What the model reads: a text or, for a model without a tokenizer, token ids. */
interface AnalysisInput {
  text: string;
  ids?: number[];
  /** an encoder-decoder's decoder input after its start token */
  targetText?: string;
  /** the induction probe instead of the text */
  probe?: ProbeOptions;
  /** the tokenizer chosen for a model without one beside it */
  tokenizer?: string;
  /** an audio encoder's features: a .npy file */
  inputFeatures?: string;
}

/** Token ids typed as "1, 5, 9", or undefined when an entry is not a non-negative integer. */
function typedIds(v: string): number[] | undefined {
  const entries = v.split(',').map((x) => x.trim());
  const ids = entries.map(Number);
  return entries.some((x) => x === '') || ids.some((x) => !Number.isInteger(x) || x < 0) ? undefined : ids;
}

const askedText = (value = DEFAULT_TEXT): Thenable<string | undefined> =>
  // open while the user copies a text from elsewhere, and while a panel that finishes drawing takes the focus
  vscode.window.showInputBox({ title: 'Attention Lens: text to analyze', value, ignoreFocusOut: true, validateInput: (v) => (v.trim() === '' ? 'a text to analyze: it is empty' : undefined) });

/** A model loaded in the engine, with the options it loaded under (a tokenizer the user chose). */
interface Loaded {
  load: LoadOptions;
  info: ModelInfo;
}

/** The tokenizer the user chose before for a model without one, while it is still there. */
const rememberedTokenizer = (ctx: AnalysisContext, modelPath: string): string | undefined => rememberedFile(ctx.recent, TOKENIZERS_KEY, modelPath);

/** Says why a run failed: a user's mistake (a model that cannot be analysed, a text too long) logged as information, one of ours as an error. */
function failed(ctx: AnalysisContext, modelPath: string, e: unknown): void {
  const err = e as Error;
  if ((err instanceof EngineError && err.kind === 'input') || err instanceof InputError) ctx.log.info(`${modelPath}: ${err.message}`);
  else ctx.log.error(`${modelPath}: ${err.message}`);
  // Not awaited: a progress notification ends now, not when the message is dismissed.
  void vscode.window.showErrorMessage(`Attention Lens: ${err.message}`, 'Show Log').then((choice) => choice && ctx.log.show());
}

/**
 * The model loaded (in the engine) as soon as it is picked, before any text is asked, so that a
 * model that cannot be analysed (corrupt, fused beyond what is rewritten, no attention) says so
 * first. Only where it may run: an untrusted workspace's model is refused before it is read.
 */
async function loadedModel(ctx: AnalysisContext, modelPath: string, tokenizer = rememberedTokenizer(ctx, modelPath)): Promise<Loaded | undefined> {
  if (!(await trusted(modelPath, ctx))) return undefined;
  const load: LoadOptions = { model: modelPath, executionProvider: executionProvider(), ...(tokenizer ? { tokenizer } : {}) };
  try {
    const info = await withQuietProgress(`Attention Lens: loading ${modelName(modelPath)}`, () => ctx.engine.load(load));
    return { load, info };
  } catch (e) {
    failed(ctx, modelPath, e);
    return undefined;
  }
}

/**
 * For a model without a tokenizer beside it: one the user picks (tokenizer.json or vocab.txt,
 * remembered for this model), or token ids typed in (`ids` false: a corpus, which needs a text).
 */
async function withTokenizer(ctx: AnalysisContext, loaded: Loaded, ids: boolean): Promise<Loaded | 'ids' | undefined> {
  if (loaded.info.tokenizer) return loaded;
  const name = modelName(loaded.info.path);
  const choices = [
    { label: '$(file) Choose a tokenizer…', description: 'tokenizer.json or vocab.txt', choice: 'tokenizer' as const },
    ...(ids ? [{ label: '$(symbol-number) Enter token ids', description: 'comma-separated, as the model reads them', choice: 'ids' as const }] : []),
  ];
  const picked = await vscode.window.showQuickPick(choices, { title: `Attention Lens: ${name} has no tokenizer beside it (tokenizer.json or vocab.txt)`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.choice === 'ids') return 'ids';
  const uri = await vscode.window.showOpenDialog({
    title: `Attention Lens: the tokenizer of ${name}`,
    defaultUri: vscode.Uri.file(dirname(loaded.info.path)),
    canSelectFiles: true,
    filters: { 'Tokenizers (tokenizer.json, vocab.txt)': ['json', 'txt'] },
  });
  const tokenizer = uri?.[0]?.fsPath;
  if (!tokenizer) return undefined;
  // loaded again with it: a tokenizer that does not fit the model's vocabulary is refused now
  const again = await loadedModel(ctx, loaded.load.model, tokenizer);
  if (again) void rememberFile(ctx.recent, TOKENIZERS_KEY, loaded.load.model, tokenizer);
  return again;
}

/** Token ids typed in for a model without a tokenizer, below its vocabulary's size. */
async function askedIds(info: ModelInfo, value: number[] = Array.from({ length: 8 }, (_, i) => i + 1)): Promise<number[] | undefined> {
  const vocab = info.vocabSize;
  const ids = await vscode.window.showInputBox({
    title: `Attention Lens: token ids for ${modelName(info.path)} to read (comma-separated)`,
    value: value.join(', '),
    // a list of ids is typed with care: a click elsewhere (a notification, the panel) does not drop it
    ignoreFocusOut: true,
    validateInput: (v) => {
      const parsed = typedIds(v);
      if (!parsed) return 'comma-separated non-negative integers, such as 1, 5, 9';
      if (vocab !== null && parsed.some((x) => x >= vocab)) return `ids below ${vocab}, the model's vocabulary`;
      return undefined;
    },
  });
  return ids === undefined ? undefined : typedIds(ids);
}

/**
 * What the loaded model reads: the selection or a text asked for (the last one's when run again),
 * an encoder-decoder's target text, or token ids; a model without a tokenizer is given one first.
 */
async function askedInput(ctx: AnalysisContext, first: Loaded, given: { selected?: string; last?: CaptureSource } = {}): Promise<{ loaded: Loaded; input: AnalysisInput } | undefined> {
  if (takesFeatures(first.info)) return askedFeatures(ctx, first, given.last);
  const loaded = await withTokenizer(ctx, first, true);
  if (!loaded) return undefined;
  if (loaded === 'ids') {
    const ids = await askedIds(first.info, given.last?.ids);
    return ids && { loaded: first, input: { text: ids.join(' '), ids } };
  }
  const { info, load } = loaded;
  const text = given.selected ?? (await askedText(given.last && !given.last.ids && !given.last.probe ? given.last.text : undefined));
  if (!text) return undefined;
  const tokenizer = load.tokenizer ? { tokenizer: load.tokenizer } : {};
  if (!info.attention.some((a) => a.part === 'cross')) return { loaded, input: { text, ...tokenizer } };
  const targetText = await askedTargetText(info, given.last?.targetText);
  return targetText === undefined ? undefined : { loaded, input: { text, targetText, ...tokenizer } };
}

const askedTargetText = (info: ModelInfo, value: string | undefined): Thenable<string | undefined> =>
  vscode.window.showInputBox({
    title: `Attention Lens: ${modelName(info.path)} is an encoder-decoder: the target text its decoder reads after its start token (empty: the start token alone)`,
    placeHolder: 'the translation, summary or answer whose cross-attention to show',
    value,
    ignoreFocusOut: true,
  });

/**
 * For an audio encoder (input_features): a features file the user picks (.npy, remembered for
 * this model; the engine reads it as it reads every file a user names), and an encoder-decoder's
 * target text. The file's name stands for the text in the panel.
 */
async function askedFeatures(ctx: AnalysisContext, loaded: Loaded, last?: CaptureSource): Promise<{ loaded: Loaded; input: AnalysisInput } | undefined> {
  const { info } = loaded;
  const name = modelName(info.path);
  const before = last?.inputFeatures ?? rememberedFile(ctx.recent, FEATURES_KEY, loaded.load.model);
  const choices = [
    ...(before ? [{ label: `$(file) ${basename(before)}`, description: 'the features used last', path: before }] : []),
    { label: '$(file-add) Choose a features file (.npy)…', description: "log-mel features from the model's feature extractor, saved with numpy.save", path: undefined },
  ];
  const picked = await vscode.window.showQuickPick(choices, { title: `Attention Lens: ${name} reads audio features (input_features), not a text`, ignoreFocusOut: true });
  if (!picked) return undefined;
  const uri = picked.path
    ? undefined
    : await vscode.window.showOpenDialog({ title: `Attention Lens: the features ${name} reads`, defaultUri: vscode.Uri.file(dirname(info.path)), canSelectFiles: true, filters: { 'NumPy features (.npy)': ['npy'] } });
  const inputFeatures = picked.path ?? uri?.[0]?.fsPath;
  if (!inputFeatures) return undefined;
  void rememberFile(ctx.recent, FEATURES_KEY, loaded.load.model, inputFeatures);
  const input = { text: basename(inputFeatures), inputFeatures, ...(loaded.load.tokenizer ? { tokenizer: loaded.load.tokenizer } : {}) };
  if (!info.attention.some((a) => a.part === 'cross')) return { loaded, input };
  const targetText = await askedTargetText(info, last?.targetText);
  return targetText === undefined ? undefined : { loaded, input: { ...input, targetText } };
}

/** The extension host's resident memory, for the log. */
const hostMemory = (): string => `${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB resident`;

/**
 * A model may run when the workspace is trusted, or when it is the extension's own (the
 * specimen): compared by real path, so that `<extension>/../workspace/model.onnx` or a link out
 * of the extension's folder is not the extension's.
 */
const mayRun = (modelPath: string, ctx: AnalysisContext): boolean => vscode.workspace.isTrusted || isInside(realPath(ctx.extensionUri.fsPath), realPath(modelPath));

/** In an untrusted workspace no model of the workspace runs: say why and offer to trust it. */
export async function trusted(modelPath: string, ctx: AnalysisContext): Promise<boolean> {
  if (mayRun(modelPath, ctx)) return true;
  const choice = await vscode.window.showWarningMessage(
    'Attention Lens runs no model from an untrusted workspace: an ONNX model is code that ONNX Runtime executes. Trust the workspace to analyze it; memory estimates work either way.',
    'Manage Workspace Trust',
  );
  if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

const FLOAT_BYTES = 4;

/** The most tokens an input can make: a text's UTF-8 bytes and two special tokens, within the model's positions. */
function mostTokens(info: ModelInfo, input: AnalysisInput): number {
  const source = input.probe ? 2 * input.probe.length + 1 : input.ids ? input.ids.length : Buffer.byteLength(input.text) + 2;
  const target = input.targetText !== undefined ? Buffer.byteLength(input.targetText) + 2 : 0;
  const n = Math.max(source, target);
  return info.maxPositions ? Math.min(n, info.maxPositions) : n;
}

/**
 * Which layers to capture: all of them (undefined), unless they might not fit in the captures the
 * engine keeps (attentionLens.captureCacheMiB) or the user asks to choose each time
 * (attentionLens.layerPicker); then the user picks, offered the first layers that fit.
 */
async function layersToCapture(info: ModelInfo, input: AnalysisInput, lab: boolean): Promise<number[] | undefined | 'cancelled'> {
  const n = mostTokens(info, input);
  const layerBytes = info.headsPerLayer.map((h) => h * n * n * FLOAT_BYTES * (lab ? 1.5 : 1));
  const allBytes = layerBytes.reduce((a, b) => a + b, 0);
  const limit = captureCacheBytes();
  const tooLarge = allBytes > limit;
  if ((!tooLarge && !alwaysAskLayers()) || info.layerNames.length <= 1) return undefined;
  let fit = 0;
  for (let sum = 0; fit < layerBytes.length && (sum += layerBytes[fit]) <= limit; ) fit++;
  const mib = (bytes: number): string => `${Math.ceil(bytes / 2 ** 20)} MiB`;
  const items = info.layerNames.map((name, index) => ({ label: `${index}: ${name}`, index, picked: !tooLarge || index < Math.max(1, fit) }));
  const picked = await vscode.window.showQuickPick(items, {
    title: tooLarge
      ? `Attention Lens: all ${items.length} layers at up to ${n} tokens may need ${mib(allBytes)}, more than the ${mib(limit)} of attentionLens.captureCacheMiB: layers to capture`
      : 'Attention Lens: layers to capture',
    canPickMany: true,
    ignoreFocusOut: true,
  });
  return picked?.length ? picked.map((p) => p.index) : 'cancelled';
}

/** Where a finished analysis goes: a panel of its own (or the last one, by the setting), the one run again in, or the one a reload restored. */
type Present = (shown: Shown) => void;

/**
 * Runs one analysis, with a progress notification from the start of the capture when it lasts
 * (Cancel stops the engine process), and logs what ran; errors show a message with a button to
 * the log. Says whether it finished.
 */
async function withEngine(
  ctx: AnalysisContext,
  modelPath: string,
  title: string,
  run: (report: (step: { message?: string; increment?: number }) => void, signal: AbortSignal) => Promise<{ shown: Shown; summary: string } | undefined>,
  present: Present,
): Promise<boolean> {
  // The engine is killed on Cancel; the signal keeps a run of several requests from starting another.
  const cancelled = new AbortController();
  const started = Date.now();
  // the extension host's memory before and after: the capture stays in the engine
  ctx.log.info(`${modelPath}: ${title}… (extension host ${hostMemory()})`);
  try {
    const done = await withQuietProgress(`Attention Lens: ${title}`, (report) => run(report, cancelled.signal), () => {
      cancelled.abort();
      ctx.engine.cancel();
    });
    if (!done) return false;
    const { executionProvider: provider, executionProviderLine: providerLine } = done.shown.capture;
    const summary = `${done.summary}, ${Date.now() - started} ms`;
    ctx.log.info(`${modelPath}: ${summary}, provider ${providerLine ?? provider} (extension host ${hostMemory()})`);
    for (const w of done.shown.capture.warnings) ctx.log.warn(`${modelPath}: ${w}`);
    ctx.ran(modelPath === ctx.specimenFolder ? 'specimen' : modelName(done.shown.modelPath), summary, provider, providerLine);
    remember(ctx, modelPath);
    present(done.shown);
    return true;
  } catch (e) {
    if (e instanceof EngineError && e.kind === 'cancelled') {
      ctx.log.info(`${modelPath}: ${e.message}`);
      return false;
    }
    failed(ctx, modelPath, e);
    return false;
  }
}

/** The panels' view of the extension: the engine, the specimen, and Run again with…. */
function panelHost(ctx: AnalysisContext): PanelHost {
  const host: PanelHost = {
    extensionUri: ctx.extensionUri,
    engine: ctx.engine,
    specimenFolder: ctx.specimenFolder,
    runAgain: (panel, source) => void runAgainIn(ctx, panel, source),
    runLab: (panel, source) => void runLabIn(ctx, panel, source),
    compareWith: (panel) => void compareWith(ctx, panel),
  };
  return host;
}

const newPanel = (ctx: AnalysisContext): Present => (shown) => void AttentionPanel.show(panelHost(ctx), shown);

/** One text (or ids), with the layers given (all when none), and the lab when asked. */
export async function runAnalysis(ctx: AnalysisContext, modelPath: string, input: AnalysisInput, opts: { layers?: number[]; lab?: LabOptions }, present: Present = newPanel(ctx)): Promise<boolean> {
  if (!(await trusted(modelPath, ctx))) return false;
  // the model as named (a folder pairs an encoder with its decoder): what a re-run loads again
  const source: CaptureSource = { model: modelPath, ...input, layers: opts.layers, ...(opts.lab ? { lab: opts.lab } : {}) };
  return withEngine(
    ctx,
    modelPath,
    'capturing attention',
    async () => {
      const shown = await panelRun(ctx.engine, sourceLoad(source), source);
      const { capture } = shown;
      const heads = capture.layers.reduce((s, l) => s + l.heads, 0);
      const probe = capture.probe ? ` (the induction probe: ${capture.probe.length} random tokens shown twice, seed ${capture.probe.seed})` : '';
      return { shown, summary: `${capture.tokens.length} tokens${probe}, ${capture.layers.length} layers, ${heads} heads` };
    },
    present,
  );
}

/** Analyze Corpus: every text run on its own, statistics averaged; progress counts texts. */
async function runCorpus(ctx: AnalysisContext, modelPath: string, corpusPath: string, tokenizer: string | undefined, present: Present = newPanel(ctx)): Promise<boolean> {
  if (!(await trusted(modelPath, ctx))) return false;
  let texts: string[];
  try {
    texts = corpusTexts(corpusPath);
  } catch (e) {
    failed(ctx, corpusPath, e);
    return false;
  }
  const source: CaptureSource = { model: modelPath, text: texts[0], corpus: corpusPath, ...(tokenizer ? { tokenizer } : {}) };
  return withEngine(
    ctx,
    modelPath,
    `analyzing the corpus ${basename(corpusPath)}`,
    async (report, signal) => {
      const onText = (done: number, total: number): void => report({ message: `text ${done} of ${total}`, increment: 100 / total });
      const shown = await panelRun(ctx.engine, sourceLoad(source), source, { texts, onText, signal });
      return { shown, summary: `corpus ${corpusPath}: ${texts.length} texts, ${shown.analysis.heads.length} heads` };
    },
    present,
  );
}

/** A text (or ids) and the layers for a loaded model, then its run: what the commands on one text share. */
async function analyzeLoaded(ctx: AnalysisContext, first: Loaded, given: { selected?: string; last?: CaptureSource; lab?: (info: ModelInfo) => Promise<LabOptions | undefined> }, present?: Present): Promise<void> {
  const asked = await askedInput(ctx, first, given);
  if (!asked) return;
  const lab = given.lab && (await given.lab(asked.loaded.info));
  if (given.lab && !lab) return;
  const layers = await layersToCapture(asked.loaded.info, asked.input, !!lab);
  if (layers === 'cancelled') return;
  await runAnalysis(ctx, first.load.model, asked.input, { layers, ...(lab ? { lab } : {}) }, present);
}

/** Run again with…: the panel's model on another text, into the same panel. */
async function runAgainIn(ctx: AnalysisContext, panel: AttentionPanel, last: CaptureSource): Promise<void> {
  const loaded = await loadedModel(ctx, last.model, last.tokenizer ?? rememberedTokenizer(ctx, last.model));
  if (loaded) await analyzeLoaded(ctx, loaded, { last, ...(last.lab ? { lab: async () => last.lab } : {}) }, (shown) => panel.setCapture(shown));
}

/** What a source read, as runAnalysis takes it. */
const sourceInput = (source: CaptureSource): AnalysisInput => ({ text: source.text, ids: source.ids, targetText: source.targetText, probe: source.probe, tokenizer: source.tokenizer, inputFeatures: source.inputFeatures });

/** The Methods tab's "Run the lab": the panel's text again, with the lab, into the same panel. */
async function runLabIn(ctx: AnalysisContext, panel: AttentionPanel, source: CaptureSource): Promise<void> {
  if (source.corpus) return void vscode.window.showInformationMessage('Attention Lens: the lab compares the methods on one text: analyze one text of the corpus to run it.');
  await runAnalysis(ctx, source.model, sourceInput(source), { layers: source.layers, lab: source.lab ?? labSettings() }, (shown) => panel.setCapture(shown));
}

/** Compare with…: the panel's capture beside another open panel's, picked when there are several. */
async function compareWith(ctx: AnalysisContext, panel: AttentionPanel): Promise<void> {
  const shown = panel.compared;
  // only captures of the same layers and heads can be compared head by head
  const others = AttentionPanel.others(panel).filter((p) => shown && !shapeMismatch(shown.summary, p.compared!.summary));
  if (!others.length) return void vscode.window.showInformationMessage('Attention Lens: open a second analysis of the same layers and heads to compare with (another text, or another checkpoint of the same shape).');
  const picked =
    others.length === 1
      ? others[0]
      : (await vscode.window.showQuickPick(others.map((p) => ({ label: p.compared!.title, panel: p })), { title: 'Attention Lens: compare with', placeHolder: 'the analysis to show beside this one' }))?.panel;
  if (picked) ComparePanel.show(ctx.extensionUri, ctx.engine, panel, picked);
}

/**
 * A panel VS Code restores after a reload runs its analysis again as its command did (progress,
 * cancel, the corpus's too, the lab's options), and only where the model may run: in a workspace
 * that is not trusted it says so and runs nothing.
 */
export async function restorePanel(ctx: AnalysisContext, panel: vscode.WebviewPanel, source: CaptureSource | undefined): Promise<void> {
  if (!source) return panel.dispose();
  const restored = AttentionPanel.restored(panel, panelHost(ctx));
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
    ? await runCorpus(ctx, source.model, source.corpus, source.tokenizer, present)
    : await runAnalysis(ctx, source.model, sourceInput(source), { layers: source.layers, lab: source.lab }, present);
  if (!ran) restored.notice(`${workspaceRelative(what)} was not run again after the reload (cancelled, or it failed: see the log). Run the analysis again to see it.`, source);
}

export function analysisCommands(ctx: AnalysisContext): Record<string, (...args: unknown[]) => Promise<void>> {
  const onText = async (model: string | undefined, given: Parameters<typeof analyzeLoaded>[2] = {}): Promise<void> => {
    const loaded = model && (await loadedModel(ctx, model));
    if (loaded) await analyzeLoaded(ctx, loaded, given);
  };
  return {
    'attentionLens.analyzeAttention': async () => onText(await pickedModel(ctx), { selected: selectedText() }),
    'attentionLens.analyzeSelection': async () => {
      const selected = selectedText();
      if (!selected) return void vscode.window.showInformationMessage('Attention Lens: select the text to analyze first.');
      await onText(await pickedModel(ctx), { selected });
    },
    'attentionLens.analyzeModel': async (uri: unknown) => onText(uri instanceof vscode.Uri ? uri.fsPath : await pickedModel(ctx)),
    'attentionLens.openSpecimen': async () => void (await runAnalysis(ctx, ctx.specimenFolder, { text: DEFAULT_TEXT }, {})),
    'attentionLens.compareEfficientAttention': async () => onText(await pickedModel(ctx), { selected: selectedText(), lab: async () => labSettings() }),
    // the repeated random tokens on every layer; the panel opens coloured by the induction score
    'attentionLens.findInductionHeads': async () => {
      const model = await pickedModel(ctx);
      const loaded = model && (await loadedModel(ctx, model));
      if (loaded) await runAnalysis(ctx, model, { text: '', probe: { length: PROBE_LENGTH, seed: labSettings().seed } }, {});
    },
    // the same standalone report as the CLI's --html, of the panel shown last
    'attentionLens.exportHtmlReport': async () => {
      const panel = AttentionPanel.last();
      const name = panel?.reportName;
      if (!panel || !name) return void vscode.window.showInformationMessage('Attention Lens: open an analysis first: the report is written from the attention panel shown last.');
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const file = `${name}.html`;
      const target = await vscode.window.showSaveDialog({ title: 'Attention Lens: HTML report', defaultUri: folder ? vscode.Uri.joinPath(folder, file) : vscode.Uri.file(file) });
      if (!target) return;
      try {
        await withQuietProgress('Attention Lens: writing the report', () => panel.writeReport(target.fsPath));
      } catch (e) {
        return failed(ctx, target.fsPath, e);
      }
      ctx.log.info(`${target.fsPath}: wrote the HTML report`);
      await savedMessage(target);
    },
    'attentionLens.analyzeCorpus': async (uri: unknown) => {
      const corpus = uri instanceof vscode.Uri ? uri.fsPath : await pickedCorpus();
      const model = corpus && (await pickedModel(ctx));
      const loaded = model && (await loadedModel(ctx, model));
      // a corpus is text: a model without a tokenizer is given one, not ids
      const withOne = loaded && (await withTokenizer(ctx, loaded, false));
      if (corpus && withOne && withOne !== 'ids') await runCorpus(ctx, withOne.load.model, corpus, withOne.load.tokenizer);
    },
  };
}
