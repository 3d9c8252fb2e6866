// Where the overview grid draws the cell of (layer, head), from plotly's own axes, in the
// coordinates of the document that holds the grid (a page, or a webview's frame). Evaluated as
// source: the host's type-check knows no DOM.
import type { Frame, Page } from 'playwright-core';

export const overviewCell = async (doc: Page | Frame, layer: number, head: number): Promise<{ x: number; y: number }> =>
  (await doc.evaluate(`(() => {
    const el = document.getElementById('overview-grid');
    const box = el.getBoundingClientRect();
    const { xaxis, yaxis } = el._fullLayout;
    return { x: box.left + xaxis._offset + xaxis.l2p(${head}), y: box.top + yaxis._offset + yaxis.l2p(${layer}) };
  })()`)) as { x: number; y: number };
