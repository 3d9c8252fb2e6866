// The Relative tab: each head's attention by relative offset (key − query).
import { colorChoice, colorControls } from '../colorControls';
import { note, plotDiv } from '../elements';
import { exportButtons } from '../exports';
import { crossHeadsNote } from '../headDescriptions';
import { drawRelative } from '../spansView';
import type { PanelContext, Tab } from './tab';

export function relativeTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  return {
    draw(root) {
      const { heads, relative: rel } = s.analysis!;
      const plot = plotDiv('relative');
      const controls = document.createElement('div');
      controls.className = 'controls';
      controls.append(
        ...colorControls(colorChoice(ctx.state), true, (c) => {
          ctx.update({ colorRange: c.range, colorCurve: c.curve });
          ctx.show('relative');
        }),
      );
      const rows = (): (string | number)[][] => [['layer.head', ...rel.offsets], ...rel.profile.flatMap((row, k) => (heads[k].span90 === null ? [] : [[`${heads[k].layer}.${heads[k].head}`, ...row]]))];
      const left = crossHeadsNote(s);
      root.append(exportButtons(ctx.host, 'relative', () => plot, () => rel, rows, ctx.exportTitle('attention by relative offset')), controls, plot, ...(left ? [note(left)] : []));
      void drawRelative(plot, s, colorChoice(ctx.state)).then(ctx.ready);
    },
  };
}
