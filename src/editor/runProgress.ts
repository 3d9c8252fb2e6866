// Progress for the engine's runs that shows only when a run lasts: a load or capture of the
// specimen takes a few hundred milliseconds, and a notification flashing for that is noise.
import * as vscode from 'vscode';

type Report = (step: { message?: string; increment?: number }) => void;

/** How long a run goes unannounced. */
const QUIET_MS = 500;

/**
 * Runs `task`, and shows a progress notification titled `title` once it has run QUIET_MS (with
 * Cancel when `cancel` is given); what the task reported before is shown then.
 */
export async function withQuietProgress<T>(title: string, task: (report: Report) => Promise<T>, cancel?: () => void): Promise<T> {
  const steps: Parameters<Report>[0][] = [];
  let shown: vscode.Progress<Parameters<Report>[0]> | undefined;
  const running = task((step) => (shown ? shown.report(step) : steps.push(step)));
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    running.then(() => false, () => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), QUIET_MS))),
  ]);
  clearTimeout(timer);
  if (!late) return running;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: !!cancel }, (progress, token) => {
    if (cancel) token.onCancellationRequested(cancel);
    for (const step of steps) progress.report(step);
    shown = progress;
    return running;
  });
}
