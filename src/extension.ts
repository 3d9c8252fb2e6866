// Wires the extension together: the engine process, the output channel and the commands.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { analyzeCommand } from './editor/analyzeCommand';
import { EngineClient } from './engine/engineClient';

const RUN_TIMEOUT_MS = 10 * 60 * 1000;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Attention Lens');
  const engine = new EngineClient({ enginePath: join(context.extensionPath, 'dist', 'engine.js'), timeoutMs: RUN_TIMEOUT_MS });
  const specimen = join(context.extensionPath, 'media', 'specimen');
  context.subscriptions.push(log, { dispose: () => engine.dispose() }, vscode.commands.registerCommand('attentionLens.analyzeAttention', analyzeCommand(engine, log, context.extensionUri, specimen)));
}

export function deactivate(): void {}
