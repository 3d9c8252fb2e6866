// Plotly layouts built from VS Code's theme variables, so charts follow light, dark and high contrast.
export function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export function plotLayout(): object {
  const fg = themeColor('--vscode-editor-foreground', '#333');
  return {
    paper_bgcolor: themeColor('--vscode-editor-background', '#fff'),
    plot_bgcolor: themeColor('--vscode-editor-background', '#fff'),
    font: { color: fg, family: themeColor('--vscode-font-family', 'sans-serif'), size: 11 },
    margin: { l: 90, r: 20, t: 10, b: 90 },
  };
}

/** From the background colour up to the theme's focus colour. */
export function heatColorscale(): [number, string][] {
  return [
    [0, themeColor('--vscode-editor-background', '#fff')],
    [1, themeColor('--vscode-focusBorder', '#007acc')],
  ];
}
