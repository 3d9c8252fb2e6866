// The status bar item, once a model has run or the workspace holds one: where models run (the
// execution provider setting, followed as it changes), which model ran last, on which provider
// and how it was chosen (what auto skipped and why), and when the engine process crashed. A
// click opens the log.
import * as vscode from 'vscode';
import type { EngineHealth } from '../engine/engineClient';
import { executionProvider } from './settings';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 10);
  private readonly watch: vscode.Disposable;
  private lastRun?: { model: string; summary: string; provider: string; providerLine?: string };
  private crash?: string;

  constructor() {
    this.item.command = { title: 'Show Log', command: 'attentionLens.showLog' };
    this.watch = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('attentionLens.executionProvider')) {
        this.lastRun = undefined;
        this.draw();
      }
    });
    this.draw();
  }

  /** Whether the workspace holds an .onnx file: the item shows from then on. */
  workspaceModels(found: boolean): void {
    if (found) this.item.show();
  }

  /** A run finished: the model, its summary, the provider that ran it and how it was chosen. */
  ran(model: string, summary: string, provider: string, providerLine?: string): void {
    this.lastRun = { model, summary, provider, providerLine };
    this.crash = undefined;
    this.draw();
    this.item.show();
  }

  /** The engine's health: a crash is shown until the next run. */
  engine(health: EngineHealth, detail: string): void {
    if (health === 'crashed') this.crash = detail;
    this.draw();
    if (this.crash) this.item.show();
  }

  private draw(): void {
    const setting = executionProvider();
    const where = this.lastRun ? this.lastRun.provider.toUpperCase() : setting === 'auto' ? 'auto (CUDA, WebGPU or the CPU)' : setting.toUpperCase();
    this.item.text = `${this.crash ? '$(warning)' : '$(pulse)'} Attention Lens: ${where}`;
    this.item.tooltip = this.crash
      ? `The engine process crashed (${this.crash}); the next run starts a fresh one. Click for the log.`
      : this.lastRun
        ? `Last run: ${this.lastRun.model} on ${this.lastRun.provider.toUpperCase()}: ${this.lastRun.summary}.${this.lastRun.providerLine ? `\nProvider: ${this.lastRun.providerLine}.` : ''} Click for the log.`
        : 'Attention Lens: the execution provider that runs models. Click for the log.';
    this.item.backgroundColor = this.crash ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.watch.dispose();
    this.item.dispose();
  }
}
