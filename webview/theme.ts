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

/**
 * A perceptual sequential map (viridis), the same in every theme: its low end is a dark violet,
 * never the panel's background, so the lowest cells stay visible; cells with no value (hidden
 * below a threshold, or no data) show the background instead.
 */
export function heatColorscale(): [number, string][] {
  return [
    [0, '#440154'],
    [0.125, '#482878'],
    [0.25, '#3e4989'],
    [0.375, '#31688e'],
    [0.5, '#26828e'],
    [0.625, '#1f9e89'],
    [0.75, '#35b779'],
    [0.875, '#6ece58'],
    [1, '#fde725'],
  ];
}

/** What a cell without a value shows: a grey apart from every colour of the map and from the background. */
export const NO_DATA_COLOR = 'rgba(128, 128, 128, 0.35)';
