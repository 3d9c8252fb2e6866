// The profiler's panel: the estimate of the config beside the model as its first tab, the
// measured profile as its second, shown first (it is what the user asked for). Without an
// estimate the profile alone.
import type { MemoryProfile } from '../src/analysis/memoryProfile';
import type { MemoryChart } from '../src/protocol';
import { tabBar } from './elements';
import type { HostApi } from './hostApi';
import { renderMemory } from './memoryView';
import { renderProfile } from './profileView';

type Tab = 'Estimate' | 'Profile';

export interface ProfilePanel {
  /** draws the tab shown again (a theme change) */
  repaint: () => Promise<unknown>;
  /** a new estimate, after the Estimate tab's controls changed */
  estimate: (chart: MemoryChart) => Promise<unknown>;
}

export function profilePanel(app: HTMLElement, profile: MemoryProfile, estimate: MemoryChart | undefined, host: HostApi): { panel: ProfilePanel; drawn: Promise<unknown> } {
  let chart = estimate;
  let shown: Tab = 'Profile';
  if (!chart) {
    const draw = (): Promise<unknown> => renderProfile(app, profile, host);
    return { panel: { repaint: draw, estimate: () => Promise.resolve() }, drawn: draw() };
  }
  app.replaceChildren();
  const body = document.createElement('div');
  body.id = 'profile-tab';
  // a tab is drawn when shown: plotly cannot size a chart in a hidden element
  const draw = (): Promise<unknown> => (shown === 'Estimate' ? renderMemory(body, chart!, host) : renderProfile(body, profile, host));
  const tabs = tabBar(['Estimate', 'Profile'] as const, 'tab', (tab) => {
    shown = tab;
    tabs.mark(shown);
    void draw();
  });
  app.append(tabs.nav, body);
  tabs.mark(shown);
  return {
    panel: {
      repaint: draw,
      estimate: (next) => {
        chart = next;
        return shown === 'Estimate' ? draw() : Promise.resolve();
      },
    },
    drawn: draw(),
  };
}
