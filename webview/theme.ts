// Plotly layouts built from VS Code's theme variables, so charts follow light, dark and high
// contrast, and a theme change, which VS Code announces by the body's class, draws them again.
export function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

type Layout = Record<string, unknown>;

/** Every chart's plotly config: no logo, sized to its element. */
export const PLOT_CONFIG = { displaylogo: false, responsive: true };

/**
 * A chart's layout in the theme's colours: its background, text, tooltips and mode bar; every
 * axis makes room for its labels (automargin), so none is clipped in a narrow panel.
 */
export function plotLayout(layout: Layout = {}): Layout {
  const fg = themeColor('--vscode-editor-foreground', '#333');
  const bg = themeColor('--vscode-editor-background', '#fff');
  const named = Object.keys(layout).filter((k) => /^[xy]axis\d*$/.test(k));
  const axes = Object.fromEntries([...new Set(['xaxis', 'yaxis', ...named])].map((k) => [k, { automargin: true, ...(layout[k] as object | undefined) }]));
  return {
    paper_bgcolor: bg,
    plot_bgcolor: bg,
    font: { color: fg, family: themeColor('--vscode-font-family', 'sans-serif'), size: 11 },
    margin: { l: 60, r: 20, t: 10, b: 60 },
    hoverlabel: {
      bgcolor: themeColor('--vscode-editorHoverWidget-background', bg),
      bordercolor: themeColor('--vscode-editorHoverWidget-border', fg),
      font: { color: themeColor('--vscode-editorHoverWidget-foreground', fg), size: 11 },
      align: 'left',
    },
    modebar: { bgcolor: 'rgba(0,0,0,0)', color: themeColor('--vscode-descriptionForeground', fg), activecolor: fg },
    ...layout,
    ...axes,
  };
}

const repaints = new Set<() => void>();
new MutationObserver(() => repaints.forEach((repaint) => repaint())).observe(document.body, { attributes: true, attributeFilter: ['class'] });

/** Calls `repaint` whenever the theme changes. */
export function onThemeChange(repaint: () => void): void {
  repaints.add(repaint);
}
