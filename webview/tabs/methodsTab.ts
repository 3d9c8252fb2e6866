// The Methods tab: the efficient-attention methods at equal budget, recall against budget, and
// each method on each head; before the lab ran, the offer to run it.
import { plotDiv, note } from '../elements';
import { exportButtons } from '../exports';
import { drawMethods } from '../methodsView';
import { labOffer } from './labOffer';
import type { PanelContext, Tab } from './tab';

export function methodsTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  return {
    draw(root) {
      const lab = s.lab;
      if (!lab) {
        root.appendChild(labOffer(ctx, 'The methods’ recall and cost'));
        return ctx.ready();
      }
      const bars = plotDiv('methods-bars');
      const curves = plotDiv('methods-curves');
      const perHead = plotDiv('methods-heads');
      const rows = (): (string | number)[][] => [['layer', 'head', 'method', 'recall', 'scoresComputed'], ...lab.heads.flatMap((h) => h.methods.map((m) => [h.layer, h.head, m.method, m.recall, m.scoresComputed]))];
      root.append(exportButtons(ctx.host, 'methods', () => bars, () => lab, rows, ctx.exportTitle('efficient-attention methods: mean recall at equal budget')), bars, curves, perHead, ...lab.notes.map((text) => note(text)));
      void drawMethods(bars, curves, perHead, s).then(ctx.ready);
    },
  };
}
