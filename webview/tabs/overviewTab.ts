// The Overview tab: every head as a cell of a layers x heads grid coloured by a statistic, and the
// heads' map by Jensen-Shannon distance beside it (or the offer to compute it, left out for its cost).
import { colorChoice, colorControls } from '../colorControls';
import { dropdown } from '../controls';
import { note, plotDiv } from '../elements';
import { exportButtons } from '../exports';
import { drawEmbedding, drawOverview, overviewStatistics } from '../overviewView';
import { PanelContext, Tab, headRows } from './tab';

export function overviewTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  const redraw = (patch: Parameters<PanelContext['update']>[0]): void => {
    ctx.update(patch);
    ctx.show('overview');
  };
  return {
    draw(root) {
      const analysis = s.analysis!;
      const statistics = overviewStatistics(s);
      const stat = statistics.find((x) => x.key === ctx.state.statistic)?.key ?? 'entropyNats';
      const controls = document.createElement('div');
      controls.className = 'controls';
      controls.append(
        dropdown('Colour by', statistics.length, statistics.findIndex((x) => x.key === stat), (i) => statistics[i].label, (i) => redraw({ statistic: statistics[i].key })),
        ...colorControls(colorChoice(ctx.state), false, (c) => redraw({ colorRange: c.range })),
      );
      const row = document.createElement('div');
      row.className = 'row';
      const gridPlot = plotDiv('overview-grid');
      row.appendChild(gridPlot);
      const embedding = analysis.headDistance ? plotDiv('embedding') : undefined;
      if (embedding) row.appendChild(embedding);
      else if (analysis.headDistanceSkipped) row.appendChild(headMapOffer(ctx, analysis.headDistanceSkipped.seconds, !!s.source?.corpus));
      const statLabel = statistics.find((x) => x.key === stat)?.label ?? stat;
      root.append(exportButtons(ctx.host, 'overview', () => gridPlot, () => analysis, () => headRows(s), ctx.exportTitle(`every head coloured by ${statLabel}`)), controls, row);
      void Promise.all([
        drawOverview(gridPlot, s, stat, colorChoice(ctx.state), (layer, head) => {
          ctx.update({ layer: Math.max(0, s.layers.findIndex((l) => l.index === layer)), head });
          ctx.show('head');
        }),
        embedding ? drawEmbedding(embedding, s) : Promise.resolve(),
      ]).then(ctx.ready);
    },
  };
}

/** In place of the head map an analysis left out for its cost: what it would take, and a button to compute it. */
function headMapOffer(ctx: PanelContext, seconds: number, corpus: boolean): HTMLElement {
  const box = document.createElement('div');
  box.id = 'head-map-offer';
  box.className = 'plot offer';
  const why = `The map of heads by Jensen-Shannon distance compares every pair of heads row by row: about ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s on the engine's threads.`;
  box.appendChild(note(corpus ? `${why} It was left out of this corpus run; analyze one text to see it.` : why));
  if (!corpus) {
    const button = document.createElement('button');
    button.textContent = 'Map the heads';
    button.addEventListener('click', () => {
      button.disabled = true;
      button.textContent = 'Mapping the heads…';
      ctx.ask({ method: 'headMap', params: {} });
    });
    box.appendChild(button);
  }
  return box;
}

/** A head map that failed or was cancelled can be asked for again. */
export function offerHeadMapAgain(): void {
  const offer = document.querySelector<HTMLButtonElement>('#head-map-offer button');
  if (!offer) return;
  offer.disabled = false;
  offer.textContent = 'Map the heads';
}
