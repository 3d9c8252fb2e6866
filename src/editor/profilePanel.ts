// Profile Model Memory: the model's sweep in the engine with a cancellable progress notification
// naming the point being run, then the profiler's view in a panel of its own (the estimate of the
// config beside the model its first tab); the profile is kept for the CodeLens of that config.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { EngineError } from '../engine/engineClient';
import { ModelProfile, modelProfile } from '../modelProfile';
import { configFileChart } from '../memory/memoryReport';
import { readUserText } from '../model/userFiles';
import { MemoryChart, MemoryControls, isMemoryViewMessage, isWebviewMessage } from '../protocol';
import { AnalysisContext, pickedModel, trusted } from './analysisCommands';
import { keepProfile } from './profileStore';
import { estimateSettingsWith, executionProvider, profileSettings } from './settings';
import { saveExport } from './webviewExport';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const PROFILE_COMMAND = 'attentionLens.profileModelMemory';
const VIEW_TYPE = 'attentionLens.profile';

/**
 * The estimate of the config beside the profiled model, the panel's first tab, with the tab's
 * controls over the settings; none where the model has no config or it gives no estimate.
 */
function besideEstimate(profile: ModelProfile, controls: Partial<MemoryControls>): MemoryChart | undefined {
  if (!profile.configPath) return undefined;
  try {
    const chart = configFileChart(readUserText(profile.configPath, 'config'), estimateSettingsWith(controls));
    return 'problem' in chart ? undefined : chart;
  } catch {
    return undefined; // a config gone or unreadable since the profile: the Profile tab alone
  }
}

function showProfile(extensionUri: vscode.Uri, profile: ModelProfile): void {
  const title = `Memory: ${basename(profile.model)}`;
  const panel = vscode.window.createWebviewPanel(VIEW_TYPE, title, vscode.ViewColumn.Active, webviewOptions(extensionUri));
  panel.webview.html = webviewHtml(panel.webview, extensionUri, title);
  let controls: Partial<MemoryControls> = {};
  const listening = panel.webview.onDidReceiveMessage((m: unknown) => {
    if (isMemoryViewMessage(m)) {
      controls = { seq: m.seq, batch: m.batch, dtype: m.dtype, mode: m.mode, fusedKernel: m.fusedKernel };
      const chart = besideEstimate(profile, controls);
      if (chart) void panel.webview.postMessage({ type: 'memory', chart });
      return;
    }
    if (!isWebviewMessage(m)) return;
    if (m.type === 'ready') void panel.webview.postMessage({ type: 'profile', profile, estimate: besideEstimate(profile, controls) });
    else if (m.type === 'export') void saveExport(m.fileName, m.content, m.base64);
  });
  panel.onDidDispose(() => listening.dispose());
}

/** The command: a model given (Explorer) or picked, run only where it may (workspace trust, as Analyze Model). */
export function profileCommand(ctx: AnalysisContext, storage: vscode.Memento, kept: () => void): (uri?: unknown) => Promise<void> {
  return async (uri) => {
    const model = uri instanceof vscode.Uri ? uri.fsPath : await pickedModel(ctx);
    if (!model || !(await trusted(model, ctx))) return;
    const name = basename(model);
    let profile: ModelProfile;
    try {
      profile = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Attention Lens: profiling ${name}`, cancellable: true }, (progress, token) => {
        token.onCancellationRequested(() => ctx.engine.cancel());
        return modelProfile(ctx.engine, { model, ep: executionProvider(), ...profileSettings() }, (i, total, n, batch) => progress.report({ message: `n = ${n}, batch ${batch} (point ${i + 1} of ${total})`, increment: i === 0 ? 0 : 100 / total }));
      });
    } catch (e) {
      if (e instanceof EngineError && e.kind === 'cancelled') return;
      ctx.log.error(`${model}: profile failed: ${(e as Error).message}`);
      return void vscode.window.showErrorMessage(`Attention Lens: ${(e as Error).message}`);
    }
    ctx.log.info(`${model}: profiled ${profile.points.length} points on ${profile.executionProvider}${profile.stopped ? `; ${profile.stopped}` : ''}`);
    ctx.ran(model, `memory profile, ${profile.points.length} points`, profile.executionProvider);
    await keepProfile(storage, profile);
    kept();
    showProfile(ctx.extensionUri, profile);
  };
}
