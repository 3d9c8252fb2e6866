// The profiler's panel: the estimate of the config beside the model as its first tab, the
// measured profile as its second, shown first (it is what the user asked for). Without an
// estimate the profile alone.
import type { MemoryProfile } from '../src/analysis/memoryProfile';
import type { MemoryChart } from '../src/protocol';
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
  const tabs = document.createElement('nav');
  tabs.className = 'tabs';
  tabs.setAttribute('role', 'tablist');
  const body = document.createElement('div');
  body.id = 'profile-tab';
  // a tab is drawn when shown: plotly cannot size a chart in a hidden element
  const draw = (): Promise<unknown> => (shown === 'Estimate' ? renderMemory(body, chart!, host) : renderProfile(body, profile, host));
  const buttons = (['Estimate', 'Profile'] as const).map((tab) => {
    const b = document.createElement('button');
    b.textContent = tab;
    b.dataset.tab = tab;
    b.setAttribute('role', 'tab');
    b.addEventListener('click', () => {
      shown = tab;
      mark();
      void draw();
    });
    return b;
  });
  const mark = (): void => {
    for (const b of buttons) {
      b.classList.toggle('active', b.dataset.tab === shown);
      b.setAttribute('aria-selected', String(b.dataset.tab === shown));
    }
  };
  tabs.append(...buttons);
  app.append(tabs, body);
  mark();
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
