// The analysis commands: Analyze Attention, Analyze Selection, Analyze Model, Open Specimen Model
// and Compare Efficient Attention. Each runs the capture and analysis in the engine process with
// a cancellable progress notification, logs what ran, and opens the attention panel.
import { relative } from 'node:path';
import * as vscode from 'vscode';
import type { LabOptions } from '../analysis/efficientAttentionLab';
import { EngineClient, EngineError } from '../engine/engineClient';
import { AttentionPanel } from './attentionPanel';
import { executionProvider } from './settings';

const DEFAULT_TEXT = 'The quick brown fox jumps over the lazy dog. It barks, then it sleeps.';

export interface AnalysisContext {
  engine: EngineClient;
  log: vscode.OutputChannel;
  extensionUri: vscode.Uri;
  specimenFolder: string;
  /** the status bar's report of the last run */
  ran(summary: string, provider: string): void;
}

/** A model the user picks: the specimen, an .onnx file of the workspace, or one browsed to. */
async function pickedModel(ctx: AnalysisContext): Promise<string | undefined> {
  const inWorkspace = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 50);
  const items = [
    { label: '$(beaker) Specimen model', description: 'built in', path: ctx.specimenFolder },
    ...inWorkspace.map((u) => ({ label: `$(file-binary) ${relative(vscode.workspace.getWorkspaceFolder(u)?.uri.fsPath ?? '', u.fsPath)}`, description: 'workspace', path: u.fsPath })),
    { label: '$(folder-opened) Browse for an .onnx file or model folder…', description: '', path: '' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Attention Lens: model to analyze' });
  if (!picked) return undefined;
  if (picked.path) return picked.path;
  const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, filters: { 'ONNX models': ['onnx'] } });
  return uri?.[0]?.fsPath;
}

function selectedText(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  return editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
}

const askedText = (): Thenable<string | undefined> => vscode.window.showInputBox({ title: 'Attention Lens: text to analyze', value: DEFAULT_TEXT });

/** In an untrusted workspace no model of the workspace runs: say why and offer to trust it. */
async function trusted(modelPath: string, ctx: AnalysisContext): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const ours = vscode.Uri.file(modelPath).fsPath.startsWith(ctx.extensionUri.fsPath);
  if (ours) return true;
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

export async function runAnalysis(ctx: AnalysisContext, modelPath: string, text: string, opts: { askLayers: boolean; lab?: LabOptions }): Promise<void> {
  if (!(await trusted(modelPath, ctx))) return;
  const load = { model: modelPath, executionProvider: executionProvider() };
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Attention Lens: capturing attention', cancellable: true },
    async (_progress, token) => {
      token.onCancellationRequested(() => ctx.engine.cancel());
      const started = Date.now();
      try {
        const info = await ctx.engine.load(load);
        const layers = opts.askLayers ? await pickedLayers(info.layerNames) : undefined;
        if (opts.askLayers && !layers) return;
        const { capture, analysis, lab } = await ctx.engine.analyze({ load, capture: { text, layers }, analysis: {}, lab: opts.lab, returnAttention: true });
        const heads = capture.layers.reduce((s, l) => s + l.heads, 0);
        const summary = `${capture.tokens.length} tokens, ${capture.layers.length} layers, ${heads} heads, ${Date.now() - started} ms`;
        ctx.log.appendLine(`${new Date().toISOString()} ${info.path}: ${summary}, provider ${capture.executionProvider}`);
        for (const w of capture.warnings) ctx.log.appendLine(`  warning: ${w}`);
        ctx.ran(summary, capture.executionProvider);
        AttentionPanel.show(ctx.extensionUri, { model: info.path, text, layers }, capture, analysis, lab);
      } catch (e) {
        const err = e as Error;
        ctx.log.appendLine(`${new Date().toISOString()} ${modelPath}: ${err.message}`);
        if (err instanceof EngineError && err.kind === 'cancelled') return;
        const choice = await vscode.window.showErrorMessage(`Attention Lens: ${err.message}`, 'Show Log');
        if (choice) ctx.log.show();
      }
    },
  );
}

export function analysisCommands(ctx: AnalysisContext): Record<string, (...args: unknown[]) => Promise<void>> {
  return {
    'attentionLens.analyzeAttention': async () => {
      const model = await pickedModel(ctx);
      const text = model && (selectedText() ?? (await askedText()));
      if (model && text) await runAnalysis(ctx, model, text, { askLayers: true });
    },
    'attentionLens.analyzeSelection': async () => {
      const text = selectedText();
      if (!text) return void vscode.window.showInformationMessage('Attention Lens: select the text to analyze first.');
      const model = await pickedModel(ctx);
      if (model) await runAnalysis(ctx, model, text, { askLayers: true });
    },
    'attentionLens.analyzeModel': async (uri: unknown) => {
      const model = uri instanceof vscode.Uri ? uri.fsPath : await pickedModel(ctx);
      const text = model && (await askedText());
      if (model && text) await runAnalysis(ctx, model, text, { askLayers: true });
    },
    'attentionLens.openSpecimen': () => runAnalysis(ctx, ctx.specimenFolder, DEFAULT_TEXT, { askLayers: false }),
    'attentionLens.compareEfficientAttention': async () => {
      const model = await pickedModel(ctx);
      const text = model && (selectedText() ?? (await askedText()));
      if (!model || !text) return;
      const head = await vscode.window.showInputBox({
        title: 'Attention Lens: head whose LSH buckets and routing clusters to show (LAYER:HEAD)',
        value: '0:0',
        validateInput: (v) => (/^\d+:\d+$/.test(v) ? undefined : 'LAYER:HEAD, such as 1:3'),
      });
      if (!head) return;
      const [layer, h] = head.split(':').map(Number);
      await runAnalysis(ctx, model, text, { askLayers: false, lab: { head: { layer, head: h } } });
    },
  };
}
