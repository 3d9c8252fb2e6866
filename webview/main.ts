// The webview's entry: one bundle serves every panel; the host's first message says which view.
import { provideVSCodeDesignSystem, vsCodeDropdown, vsCodeOption } from '@vscode/webview-ui-toolkit';
import { AttentionView } from './attentionView';
import { ComparePanel, comparePanel } from './compareView';
import { hostApi, onHostMessage } from './hostApi';
import { renderMemory } from './memoryView';
import { ProfilePanel, profilePanel } from './profileTabs';
import { onThemeChange } from './theme';

provideVSCodeDesignSystem().register(vsCodeDropdown(), vsCodeOption());

const host = hostApi();
const app = document.getElementById('app')!;
const attention = new AttentionView(host, app);
// the charts take their colours from the theme as they are drawn: a new theme draws the panel again
let repaint = (): void => attention.repaint();
onThemeChange(() => repaint());

// the profiler's panel, once shown: the memory messages it receives are its Estimate tab's
let profileShown: ProfilePanel | undefined;
// the compare panel, once shown: the replies and notices it receives are its own
let compareShown: ComparePanel | undefined;

onHostMessage((m) => {
  if (m.type === 'memory' && profileShown) void profileShown.estimate(m.chart);
  else if (m.type === 'memory') {
    host.setState({ ...(host.getState() ?? { layer: 0, head: 0 }), memoryShape: m.chart.shape, memorySource: m.chart.source });
    repaint = () => void renderMemory(app, m.chart, host);
    void renderMemory(app, m.chart, host).then(() => app.setAttribute('data-ready', 'memory'));
  } else if (m.type === 'profile') {
    const { panel, drawn } = profilePanel(app, m.profile, m.estimate, host);
    profileShown = panel;
    repaint = () => void panel.repaint();
    void drawn.then(() => app.setAttribute('data-ready', 'profile'));
  } else if (m.type === 'compare') {
    const panel = (compareShown ??= comparePanel(app, host));
    repaint = () => panel.repaint();
    panel.show(m.compare);
  } else if (compareShown) compareShown.message(m);
  else attention.message(m);
});
host.postMessage({ type: 'ready' });
