// Saves what a view exports (a chart as PNG/SVG, its data as JSON/CSV) where the user chooses:
// webviews cannot download files themselves. Then says where it went, with Open and Reveal.
import { basename } from 'node:path';
import * as vscode from 'vscode';

export async function saveExport(fileName: string, content: string, base64: boolean): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: 'Attention Lens: export',
    defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : vscode.Uri.file(fileName),
  });
  if (!target) return;
  const bytes = base64 ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8');
  await vscode.workspace.fs.writeFile(target, bytes);
  await savedMessage(target);
}

/** "Saved NAME" with Open (in the editor, or an image's preview) and Reveal (in the Explorer when it is the workspace's, else the system's file manager). */
export async function savedMessage(target: vscode.Uri): Promise<void> {
  const choice = await vscode.window.showInformationMessage(`Attention Lens: saved ${basename(target.fsPath)}`, 'Open', 'Reveal');
  if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
  else if (choice === 'Reveal') await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(target) ? 'revealInExplorer' : 'revealFileInOS', target);
}
