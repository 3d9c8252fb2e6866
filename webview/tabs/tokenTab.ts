// The Token tab (bertviz's token view, every head at once): one token's row or column in every
// head of every layer, from one request; a click on a token of the rows opens that token. Other
// tabs open a token by setting token, tokenSide and tokenText in the state, then showing this tab.
import type { TokenRows } from '../../src/protocol';
import { setChartTitle } from '../chartTitle';
import { colorChoice, colorControls } from '../colorControls';
import { plotDiv } from '../elements';
import { exportButtons } from '../exports';
import { TokenChoice, choiceTokens, drawTokenView, tokenControls, tokenRowsCsv, tokenRowsExport, tokenTitle } from '../tokenView';
import type { PanelContext, Tab } from './tab';

export function tokenTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  const text = ctx.state.tokenText === 'target' && s.target ? 'target' : 'source';
  const choice: TokenChoice = { token: Math.min(ctx.state.token ?? 0, choiceTokens(s, text).length - 1), side: ctx.state.tokenSide ?? 'query', text };
  const open = (c: TokenChoice): void => {
    ctx.update({ token: c.token, tokenSide: c.side, tokenText: c.text });
    ctx.show('token');
  };
  let rows: TokenRows | undefined;
  let plot: HTMLElement | undefined;
  const draw = (): void => {
    if (!plot || !rows) return;
    setChartTitle(plot, tokenTitle(s, rows));
    void drawTokenView(plot, s, rows, colorChoice(ctx.state), (token, over) => open({ ...choice, token, text: over })).then(ctx.ready);
  };
  return {
    draw(root) {
      plot = plotDiv('token-view');
      const shown = plot;
      const controls = document.createElement('div');
      controls.className = 'controls';
      controls.append(
        ...tokenControls(s, choice, open),
        ...colorControls(colorChoice(ctx.state), true, (c) => {
          ctx.update({ colorRange: c.range, colorCurve: c.curve });
          draw();
        }),
      );
      root.append(
        exportButtons(ctx.host, `token-${choice.text}-${choice.token}-${choice.side === 'query' ? 'attends-to' : 'attended-by'}`, () => shown, () => rows && tokenRowsExport(s, rows), () => (rows ? tokenRowsCsv(s, rows) : []), () => ctx.exportTitle(rows ? tokenTitle(s, rows) : '')),
        controls,
        plot,
      );
      ctx.ask({ method: 'tokenRow', params: choice });
    },
    repaint: draw,
    answers: {
      tokenRow: (r) => {
        rows = r;
        draw();
      },
    },
  };
}
