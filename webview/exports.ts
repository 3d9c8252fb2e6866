// Exports of a view: the chart as PNG or SVG (plotly's own renderer) and the view's data as
// JSON or CSV. In VS Code the host saves the file; in the standalone report the browser does.
import Plotly from 'plotly.js-dist';
import type { HostApi } from './hostApi';

interface PlotlyImage {
  toImage(root: HTMLElement, opts: { format: 'png' | 'svg'; width?: number; height?: number }): Promise<string>;
}

function save(host: HostApi, fileName: string, content: string, base64: boolean): void {
  if (host.saveFile) {
    host.saveFile(fileName, content, base64);
    return;
  }
  host.postMessage({ type: 'export', fileName, content, base64 });
}

export function toCsv(rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null): string => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** Buttons that export the view named `name`: its first chart as PNG/SVG, `data` as JSON and `csv` as CSV. */
export function exportButtons(host: HostApi, name: string, chart: () => HTMLElement | null, data: () => unknown, csv: () => (string | number | null)[][]): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'exports';
  const button = (label: string, run: () => void | Promise<void>): void => {
    const b = document.createElement('button');
    b.textContent = label;
    b.dataset.export = label.toLowerCase();
    b.addEventListener('click', () => void run());
    bar.appendChild(b);
  };
  for (const format of ['png', 'svg'] as const) {
    button(format.toUpperCase(), async () => {
      const root = chart();
      if (!root) return;
      const url = await (Plotly as unknown as PlotlyImage).toImage(root, { format });
      const [, payload] = url.split(',', 2);
      save(host, `${name}.${format}`, format === 'svg' ? decodeURIComponent(payload) : payload, format === 'png');
    });
  }
  button('JSON', () => save(host, `${name}.json`, JSON.stringify(data(), null, 2), false));
  button('CSV', () => save(host, `${name}.csv`, toCsv(csv()), false));
  return bar;
}
