// The context keys attentionLens.modelFolders (the workspace's folders that hold an .onnx file)
// and attentionLens.corpusFolders (those that hold a text file that is not a tokenizer's), so
// that the Explorer offers Analyze Model and Analyze Corpus on those folders and not on every
// folder; and whether the workspace holds a model at all, for the status bar.
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';

const MODEL_KEY = 'attentionLens.modelFolders';
const CORPUS_KEY = 'attentionLens.corpusFolders';
const MAX_FILES = 2000;
const SETTLE_MS = 500;
/** the text files of a tokenizer, never a corpus */
const TOKENIZER_TEXTS = new Set(['vocab.txt', 'merges.txt']);

/** A text file that may be a corpus: a .txt file that is not a tokenizer's vocabulary or merges. */
export const isCorpusFile = (path: string): boolean => path.toLowerCase().endsWith('.txt') && !TOKENIZER_TEXTS.has(basename(path).toLowerCase());

/** The folders of these files, as the menus' resourcePath may name them. */
function folderKeys(files: vscode.Uri[]): string[] {
  const folders = new Set<string>();
  for (const file of files) {
    const folder = vscode.Uri.joinPath(file, '..');
    // The menu's resourcePath is the file system path locally and the URI's path in a remote
    // window; they differ on Windows, so both are listed.
    folders.add(folder.fsPath);
    folders.add(folder.path);
  }
  return [...folders];
}

async function updateFolders(onModels: (found: boolean) => void): Promise<void> {
  const models = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', MAX_FILES);
  await vscode.commands.executeCommand('setContext', MODEL_KEY, folderKeys(models));
  onModels(models.length > 0);
  const texts = await vscode.workspace.findFiles('**/*.txt', '**/node_modules/**', MAX_FILES);
  const modelFolders = new Set(models.map((m) => dirname(m.fsPath)));
  // a text beside a model is its tokenizer's or its notes, not a corpus
  const corpora = texts.filter((t) => isCorpusFile(t.fsPath) && !modelFolders.has(dirname(t.fsPath)));
  await vscode.commands.executeCommand('setContext', CORPUS_KEY, folderKeys(corpora));
}

/** Sets the keys now and again (once things settle) whenever an .onnx or .txt file appears or goes. */
export function watchModelFolders(onModels: (found: boolean) => void): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{onnx,txt}', false, true, false);
  let timer: NodeJS.Timeout | undefined;
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void updateFolders(onModels), SETTLE_MS);
  };
  watcher.onDidCreate(later);
  watcher.onDidDelete(later);
  const folders = vscode.workspace.onDidChangeWorkspaceFolders(later);
  void updateFolders(onModels);
  return vscode.Disposable.from(watcher, folders, { dispose: () => clearTimeout(timer) });
}
