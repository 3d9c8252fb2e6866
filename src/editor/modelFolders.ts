// The context key attentionLens.modelFolders: the workspace's folders that hold an .onnx file,
// so that the Explorer offers Analyze Model on those folders and not on every folder.
import * as vscode from 'vscode';

const CONTEXT_KEY = 'attentionLens.modelFolders';
const MAX_MODELS = 2000;
const SETTLE_MS = 500;

async function updateModelFolders(): Promise<void> {
  const models = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', MAX_MODELS);
  const folders = new Set<string>();
  for (const model of models) {
    const folder = vscode.Uri.joinPath(model, '..');
    // The menu's resourcePath is the file system path locally and the URI's path in a remote
    // window; they differ on Windows, so both are listed.
    folders.add(folder.fsPath);
    folders.add(folder.path);
  }
  await vscode.commands.executeCommand('setContext', CONTEXT_KEY, [...folders]);
}

/** Sets the key now and again (once things settle) whenever an .onnx file appears or goes. */
export function watchModelFolders(): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.onnx', false, true, false);
  let timer: NodeJS.Timeout | undefined;
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void updateModelFolders(), SETTLE_MS);
  };
  watcher.onDidCreate(later);
  watcher.onDidDelete(later);
  const folders = vscode.workspace.onDidChangeWorkspaceFolders(later);
  void updateModelFolders();
  return vscode.Disposable.from(watcher, folders, { dispose: () => clearTimeout(timer) });
}
