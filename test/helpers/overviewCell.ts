// Where a heatmap draws a cell, from plotly's own axes, in the coordinates of the document that
// holds it (a page, or a webview's frame): the overview grid's cell of (layer, head), or any
// plot's cell of (row, column). Evaluated as source: the host's type-check knows no DOM.
import type { Frame, Page } from 'playwright-core';

export const plotCell = async (doc: Page | Frame, id: string, row: number, column: number): Promise<{ x: number; y: number }> =>
  (await doc.evaluate(`(() => {
    const el = document.getElementById(${JSON.stringify(id)});
    const box = el.getBoundingClientRect();
    const { xaxis, yaxis } = el._fullLayout;
    return { x: box.left + xaxis._offset + xaxis.l2p(${column}), y: box.top + yaxis._offset + yaxis.l2p(${row}) };
  })()`)) as { x: number; y: number };

export const overviewCell = (doc: Page | Frame, layer: number, head: number): Promise<{ x: number; y: number }> => plotCell(doc, 'overview-grid', layer, head);
