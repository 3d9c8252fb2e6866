// The Spans tab: each head's effective span at a chosen coverage of its attention mass.
import { dropdown } from '../controls';
import { note, plotDiv } from '../elements';
import { exportButtons } from '../exports';
import { crossHeadsNote } from '../headDescriptions';
import { drawSpans } from '../spansView';
import { PanelContext, Tab, headRows } from './tab';

const COVERAGES = ['span50', 'span90', 'span99'] as const;

export function spansTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  return {
    draw(root) {
      const heads = s.analysis!.heads;
      const plot = plotDiv('spans');
      const coverage = COVERAGES.find((c) => c === ctx.state.coverage) ?? 'span90';
      const controls = document.createElement('div');
      controls.className = 'controls';
      controls.append(
        dropdown('Coverage', COVERAGES.length, COVERAGES.indexOf(coverage), (i) => `${COVERAGES[i].slice(4)}%`, (i) => {
          ctx.update({ coverage: COVERAGES[i] });
          ctx.show('spans');
        }),
      );
      const left = crossHeadsNote(s);
      const spans = (): object[] => heads.map((h) => ({ layer: h.layer, head: h.head, span50: h.span50, span90: h.span90, span99: h.span99, span90Max: h.span90Max }));
      root.append(exportButtons(ctx.host, 'spans', () => plot, spans, () => headRows(s), ctx.exportTitle(`effective spans at ${coverage.slice(4)}% coverage`)), controls, plot, ...(left ? [note(left)] : []));
      void drawSpans(plot, s, coverage).then(ctx.ready);
    },
  };
}
