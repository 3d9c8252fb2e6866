// A chart's title as text above it: it wraps in a narrow panel, where plotly's would be cut off.
export function setChartTitle(plot: HTMLElement, text: string): void {
  const before = plot.previousElementSibling;
  const title = before?.classList.contains('chart-title') ? before : plot.insertAdjacentElement('beforebegin', document.createElement('p'))!;
  title.className = 'chart-title';
  title.textContent = text;
}
