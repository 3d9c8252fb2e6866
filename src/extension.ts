// Wires the extension together: the engine process, the output channel, the commands and the
// inline memory estimates. ONNX Runtime is loaded only by the engine process, when a model runs.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { analysisCommands, restorePanel } from './editor/analysisCommands';
import { ConfigScanCache, MEMORY_LANGUAGES, MemoryLensProvider, SHOW_MEMORY_COMMAND } from './editor/memoryLens';
import { AttentionPanel } from './editor/attentionPanel';
import { estimateSettings } from './editor/settings';
import { StatusBar } from './editor/statusBar';
import type { MemorySource, WebviewState } from './protocol';
import { siteEstimate } from './memory/memoryReport';
import { MemoryPanel } from './editor/memoryPanel';
import { PROFILE_COMMAND, profileCommand } from './editor/profilePanel';
import { measuredLine, profileBeside } from './editor/profileStore';
import { watchModelFolders } from './editor/modelFolders';
import { EngineClient } from './engine/engineClient';
import type { AttentionShape } from './memory/attentionMemory';

const RUN_TIMEOUT_MS = 10 * 60 * 1000;

export function activate(context: vscode.ExtensionContext): void {
  const activateStarted = performance.now();
  // A log channel: VS Code stamps each line with its time and level.
  const log = vscode.window.createOutputChannel('Attention Lens', { log: true });
  const status = new StatusBar();
  const engine = new EngineClient({
    enginePath: join(context.extensionPath, 'dist', 'engine.js'),
    timeoutMs: RUN_TIMEOUT_MS,
    onProcess: (line) => log.info(line),
    onHealth: (health, detail) => status.engine(health, detail),
  });
  const specimen = join(context.extensionPath, 'media', 'specimen');
  const scans = new ConfigScanCache(join(context.extensionPath, 'dist', 'configScanWorker.js'));
  const ran = (model: string, summary: string, ranOn: string, providerLine?: string): void => status.ran(model, summary, ranOn, providerLine);
  const analysis = { engine, log, extensionUri: context.extensionUri, specimenFolder: specimen, recent: context.globalState, ran };
  const lens = new MemoryLensProvider(scans, (configPath) => {
    const kept = profileBeside(context.globalState, configPath);
    return kept && ((n: number) => measuredLine(kept, n));
  });
  const selector = MEMORY_LANGUAGES.map((language) => ({ language }));
  context.subscriptions.push(
    log,
    scans,
    lens,
    { dispose: () => engine.dispose() },
    vscode.languages.registerCodeLensProvider(selector, lens),
    vscode.languages.registerHoverProvider(selector, lens),
    status,
    watchModelFolders((found) => status.workspaceModels(found)),
    ...Object.entries(analysisCommands(analysis)).map(([id, run]) =>
      vscode.commands.registerCommand(id, run),
    ),
    vscode.commands.registerCommand('attentionLens.showLog', () => log.show()),
    vscode.commands.registerCommand(PROFILE_COMMAND, profileCommand(analysis, context.globalState, () => lens.refresh())),
    vscode.commands.registerCommand(SHOW_MEMORY_COMMAND, (shape: AttentionShape, source?: MemorySource) => MemoryPanel.show(context.extensionUri, scans, shape, source)),
    vscode.commands.registerCommand('attentionLens.estimateMemory', () => estimateActiveDocument(context.extensionUri, scans)),
    vscode.window.registerWebviewPanelSerializer(AttentionPanel.viewType, {
      deserializeWebviewPanel: (panel, state: WebviewState | undefined) => {
        log.info(`restoring the attention panel: ${state?.source?.corpus ?? state?.source?.model ?? 'nothing to restore'}${state?.source?.lab ? ', with the lab' : ''}`);
        return restorePanel(analysis, panel, state?.source);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(MemoryPanel.viewType, {
      deserializeWebviewPanel: async (panel, state: WebviewState | undefined) => MemoryPanel.revive(panel, context.extensionUri, scans, state),
    }),
  );
  // VS Code's own figure (Developer: Show Running Extensions) adds loading the bundle.
  log.info(`activated in ${(performance.now() - activateStarted).toFixed(1)} ms`);
}

/** Estimate Attention Memory: the first model configuration of the active editor, in the panel. */
function estimateActiveDocument(extensionUri: vscode.Uri, scans: ConfigScanCache): void {
  const doc = vscode.window.activeTextEditor?.document;
  const scan = doc ? scans.scan(doc) : undefined;
  if (!doc || !scan?.sites.length) {
    void vscode.window.showWarningMessage(
      `Attention Lens: ${scan?.problems[0] ?? 'no model configuration in the active editor'} (open a config.json, a YAML config or Python that builds a model)`,
    );
    return;
  }
  const settings = estimateSettings();
  const estimates = scan.sites.map((site) => siteEstimate(site, settings, scan.training));
  const index = estimates.findIndex((e) => 'shape' in e);
  const found = estimates[index];
  if (found && 'shape' in found) MemoryPanel.show(extensionUri, scans, found.shape, { uri: doc.uri.toString(), index });
  else void vscode.window.showWarningMessage(`Attention Lens: ${'problem' in estimates[0] ? estimates[0].problem : ''}`);
}

export function deactivate(): void {}
