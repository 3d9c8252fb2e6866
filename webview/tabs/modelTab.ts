// The Model tab (bertviz's model view): every head's thumbnail at once, all of one window of the
// text asked in one request; a click on a thumbnail opens that head in the Head tab.
import type { HeadTile } from '../../src/protocol';
import { plotDiv } from '../elements';
import { exportButtons } from '../exports';
import { drawModelView, modelWindow, windowControls, windowCsv, windowExport } from '../modelView';
import type { PanelContext, Tab } from './tab';

export function modelTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  const w = modelWindow(s, ctx.state.modelWindowStart ?? 0);
  let tiles: HeadTile[] | undefined;
  let plot: HTMLElement | undefined;
  const draw = (): void => {
    if (plot && tiles)
      void drawModelView(plot, s, tiles, (layer, head) => {
        ctx.update({ layer, head });
        ctx.show('head');
      }).then(ctx.ready);
  };
  return {
    draw(root) {
      plot = plotDiv('model-view');
      const shown = plot;
      const what = `every head, queries ${w.q0}–${w.q1 - 1} x keys ${w.k0}–${w.k1 - 1}`;
      root.appendChild(exportButtons(ctx.host, `model-view-${w.q0}-${w.q1}`, () => shown, () => tiles && windowExport(s, w, tiles), () => (tiles ? windowCsv(s, tiles) : []), ctx.exportTitle(what)));
      const moves = windowControls(s, w, (start) => {
        ctx.update({ modelWindowStart: start });
        ctx.show('model');
      });
      if (moves.length) {
        const controls = document.createElement('div');
        controls.className = 'controls';
        controls.append(...moves);
        root.appendChild(controls);
      }
      root.appendChild(plot);
      ctx.ask({ method: 'window', params: w });
    },
    repaint: draw,
    answers: {
      window: (r) => {
        tiles = r.tiles;
        draw();
      },
    },
  };
}
