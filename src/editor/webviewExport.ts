// Saves what a view exports (a chart as PNG/SVG, its data as JSON/CSV) where the user chooses:
// webviews cannot download files themselves.
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
}
