// VS Code's stock themes as a webview sees them: the body's class and the colour variables it sets
// on the document (Light Modern, Dark Modern, High Contrast and High Contrast Light; a colour the
// theme leaves undefined, as high contrast does the buttons', is absent).
import type { Page } from 'playwright-core';

export type ThemeName = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

const THEMES: Record<ThemeName, { className: string; colors: Record<string, string> }> = {
  light: {
    className: 'vscode-light',
    colors: {
      'editor-background': '#ffffff', 'editor-foreground': '#3b3b3b', foreground: '#3b3b3b', descriptionForeground: '#3b3b3b', focusBorder: '#005fb8',
      'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b',
      'textLink-foreground': '#005fb8', 'panel-border': '#e5e5e5', 'editorHoverWidget-background': '#f8f8f8', 'editorHoverWidget-foreground': '#3b3b3b', 'editorHoverWidget-border': '#c8c8c8',
      'dropdown-background': '#ffffff', 'dropdown-foreground': '#3b3b3b', 'dropdown-border': '#cecece',
    },
  },
  dark: {
    className: 'vscode-dark',
    colors: {
      'editor-background': '#1f1f1f', 'editor-foreground': '#cccccc', foreground: '#cccccc', descriptionForeground: '#9d9d9d', focusBorder: '#0078d4',
      'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc',
      'textLink-foreground': '#4daafc', 'panel-border': '#2b2b2b', 'editorHoverWidget-background': '#202020', 'editorHoverWidget-foreground': '#cccccc', 'editorHoverWidget-border': '#454545',
      'dropdown-background': '#313131', 'dropdown-foreground': '#cccccc', 'dropdown-border': '#3c3c3c',
    },
  },
  'high-contrast': {
    className: 'vscode-high-contrast',
    colors: {
      'editor-background': '#000000', 'editor-foreground': '#ffffff', foreground: '#ffffff', descriptionForeground: '#ffffffb3', focusBorder: '#f38518', contrastBorder: '#6fc3df', contrastActiveBorder: '#f38518',
      'textLink-foreground': '#21a6ff', 'panel-border': '#6fc3df', 'editorHoverWidget-background': '#0c141f', 'editorHoverWidget-foreground': '#ffffff', 'editorHoverWidget-border': '#6fc3df',
      'dropdown-background': '#000000', 'dropdown-foreground': '#ffffff', 'dropdown-border': '#6fc3df',
    },
  },
  'high-contrast-light': {
    className: 'vscode-high-contrast-light',
    colors: {
      'editor-background': '#ffffff', 'editor-foreground': '#292929', foreground: '#292929', descriptionForeground: '#292929b3', focusBorder: '#006bbd', contrastBorder: '#0f4a85', contrastActiveBorder: '#006bbd',
      'button-background': '#0f4a85', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#ffffff', 'button-secondaryForeground': '#292929',
      'textLink-foreground': '#0f4a85', 'panel-border': '#0f4a85', 'editorHoverWidget-background': '#ffffff', 'editorHoverWidget-foreground': '#292929', 'editorHoverWidget-border': '#0f4a85',
      'dropdown-background': '#ffffff', 'dropdown-foreground': '#292929', 'dropdown-border': '#0f4a85',
    },
  },
};

export const THEME_NAMES = Object.keys(THEMES) as ThemeName[];

/** Puts the page in `theme` as VS Code does on a theme change: the variables on the document, then the body's class. */
export async function setTheme(page: Page, theme: ThemeName): Promise<void> {
  const { className, colors } = THEMES[theme];
  await page.evaluate(`(() => {
    const root = document.documentElement;
    for (const name of [...root.style]) if (name.startsWith('--vscode-')) root.style.removeProperty(name);
    for (const [k, v] of Object.entries(${JSON.stringify(colors)})) root.style.setProperty('--vscode-' + k, v);
    root.style.setProperty('--vscode-font-family', 'system-ui, sans-serif');
    root.style.setProperty('--vscode-font-size', '13px');
    document.body.className = ${JSON.stringify(className)};
  })()`);
}
