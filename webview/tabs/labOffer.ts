// Where the lab's results would be: what the lab does, and in the editor a button that runs it on
// the panel's text (the standalone report cannot run a model: it says how to get them).
import { note } from '../elements';
import type { PanelContext } from './tab';

export function labOffer(ctx: PanelContext, what: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'offer';
  box.id = 'lab-offer';
  const corpus = !!ctx.summary.source?.corpus;
  const editor = !!ctx.summary.source && !ctx.host.saveFile;
  box.appendChild(
    note(
      `${what} come from the efficient-attention lab, which compares Sparse Transformer patterns, adaptive spans, Reformer's LSH and routing clusters with the dense attention of every head. ${
        corpus ? 'It runs on one text: analyze one text of the corpus to run it.' : editor ? 'It captures the queries and keys too, and runs the model again on this text.' : 'Run the analysis with --lab to see them.'
      }`,
    ),
  );
  if (editor && !corpus) {
    const button = document.createElement('button');
    button.id = 'run-lab';
    button.textContent = 'Run the lab';
    button.addEventListener('click', () => {
      button.disabled = true;
      button.textContent = 'Running the lab…';
      ctx.host.postMessage({ type: 'runLab' });
    });
    box.appendChild(button);
  }
  return box;
}
