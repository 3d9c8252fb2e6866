// The Buckets tab: one head's LSH buckets and routing clusters, for any head the user picks
// (computed by the host from the capture's queries and keys); the lab's own head needs no request.
import type { BucketSummary } from '../../src/protocol';
import { dropdown } from '../controls';
import { plotDiv } from '../elements';
import { exportButtons } from '../exports';
import { drawBuckets } from '../bucketsView';
import { labOffer } from './labOffer';
import type { PanelContext, Tab } from './tab';

export function bucketsTab(ctx: PanelContext): Tab {
  const s = ctx.summary;
  // the lab's methods stand in for self-attention over one sequence: an encoder-decoder's encoder
  const layers = s.layers.flatMap((l, i) => (l.part === undefined || l.part === 'encoder' ? [i] : []));
  let shown: BucketSummary | undefined = s.lab?.buckets;
  let lsh: HTMLElement | undefined;
  let clusters: HTMLElement | undefined;
  // it opens on the head the lab showed, if any; the editor computes any other head chosen, a report cannot
  const labHead = shown && { layer: Math.max(0, s.layers.findIndex((l) => l.index === shown!.layer)), head: shown.head };
  const fixed = !!ctx.host.saveFile && !!labHead;
  let chosen = labHead;
  const at = (): { layer: number; head: number } => {
    if (chosen) return chosen;
    const layer = layers.includes(ctx.state.layer) ? ctx.state.layer : (layers[0] ?? 0);
    return { layer, head: Math.min(ctx.state.head, s.layers[layer].heads - 1) };
  };
  const choose = (layer: number, head: number): void => {
    chosen = { layer, head };
    ctx.update(chosen);
  };
  const draw = (): void => {
    if (lsh && clusters && shown) void drawBuckets(lsh, clusters, s, shown).then(ctx.ready);
  };
  const request = (): void => {
    const { layer, head } = at();
    if (shown && shown.layer === s.layers[layer].index && shown.head === head) return draw();
    ctx.ask({ method: 'buckets', params: { layer, head } });
  };
  return {
    draw(root) {
      if (!s.lab) {
        root.appendChild(labOffer(ctx, 'LSH buckets and routing clusters'));
        return ctx.ready();
      }
      const controls = document.createElement('div');
      controls.className = 'controls';
      // the head's dropdown follows the layer's: both drawn again on a change, the charts asked for anew
      const fill = (): void => {
        const { layer, head } = at();
        controls.replaceChildren(
          dropdown('Layer', layers.length, Math.max(0, layers.indexOf(layer)), (i) => `${s.layers[layers[i]].index}: ${s.layers[layers[i]].name}`, (i) => {
            choose(layers[i], Math.min(head, s.layers[layers[i]].heads - 1));
            fill();
            request();
          }),
          dropdown('Head', s.layers[layer].heads, head, (i) => String(i), (h) => {
            choose(layer, h);
            request();
          }),
        );
      };
      if (!fixed) fill();
      const { layer, head } = at();
      lsh = plotDiv('lsh-buckets');
      clusters = plotDiv('routing-clusters');
      const rows = (): (string | number)[][] => (shown ? [['token', ...shown.lsh.map((_, r) => `round ${r}`), 'routing cluster'], ...s.tokens.map((t, i) => [t, ...shown!.lsh.map((round) => round[i]), shown!.routing[i]])] : []);
      root.append(
        exportButtons(ctx.host, () => `buckets-${shown?.layer ?? layer}-${shown?.head ?? head}`, () => lsh ?? null, () => shown, rows, () => ctx.exportTitle(`layer ${shown?.layer} · head ${shown?.head} · LSH buckets`)),
        controls,
        lsh,
        clusters,
      );
      request();
    },
    repaint: draw,
    answers: {
      buckets: (b) => {
        shown = b;
        draw();
      },
    },
  };
}
