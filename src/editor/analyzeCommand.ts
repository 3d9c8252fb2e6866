// Analyze Attention: runs the capture in the engine process for the selected text, logs what
// ran and opens the attention panel on the result.
import * as vscode from 'vscode';
import { EngineClient, EngineError } from '../engine/engineClient';
import { AttentionPanel } from './attentionPanel';
import { executionProvider } from './settings';

export function analyzeCommand(engine: EngineClient, log: vscode.OutputChannel, extensionUri: vscode.Uri, specimenFolder: string): () => Promise<void> {
  return async () => {
    const picked = await vscode.window.showQuickPick(
      [
        { label: '$(beaker) Specimen model', path: specimenFolder },
        { label: '$(folder-opened) Browse for an .onnx file or model folder…', path: '' },
      ],
      { title: 'Attention Lens: model to analyze' },
    );
    if (!picked) return;
    let modelPath = picked.path;
    if (!modelPath) {
      const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, filters: { 'ONNX models': ['onnx'] } });
      if (!uri?.[0]) return;
      modelPath = uri[0].fsPath;
    }
    const editor = vscode.window.activeTextEditor;
    const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
    const text = selected ?? (await vscode.window.showInputBox({ title: 'Text to analyze', value: 'The quick brown fox jumps over the lazy dog.' }));
    if (!text) return;
    const load = { model: modelPath, executionProvider: executionProvider() };
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Attention Lens: capturing attention', cancellable: true },
      async (_progress, token) => {
        token.onCancellationRequested(() => engine.cancel());
        const started = Date.now();
        try {
          const info = await engine.load(load);
          const layers = await pickedLayers(info.layerNames);
          if (!layers) return;
          const { capture, analysis } = await engine.analyze({ load, capture: { text, layers }, analysis: {}, returnAttention: true });
          const heads = capture.layers.reduce((s, l) => s + l.heads, 0);
          log.appendLine(
            `${new Date().toISOString()} ${info.path}: ${capture.tokens.length} tokens, ${capture.layers.length} layers, ${heads} heads, ` +
              `provider ${capture.executionProvider}, ${Date.now() - started} ms`,
          );
          for (const w of capture.warnings) log.appendLine(`  warning: ${w}`);
          AttentionPanel.show(extensionUri, { model: info.path, text, layers }, capture, analysis);
        } catch (e) {
          const err = e as Error;
          log.appendLine(`${new Date().toISOString()} ${modelPath}: ${err.message}`);
          if (err instanceof EngineError && err.kind === 'cancelled') return;
          const choice = await vscode.window.showErrorMessage(`Attention Lens: ${err.message}`, 'Show Log');
          if (choice) log.show();
        }
      },
    );
  };
}

/** Which layers to capture: all by default; fewer let long sequences fit in memory. */
async function pickedLayers(names: string[]): Promise<number[] | undefined> {
  if (names.length <= 1) return names.map((_, i) => i);
  const items = names.map((name, index) => ({ label: `${index}: ${name}`, index, picked: true }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Attention Lens: layers to capture', canPickMany: true });
  return picked?.length ? picked.map((p) => p.index) : undefined;
}
