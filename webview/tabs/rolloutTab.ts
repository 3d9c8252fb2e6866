// The Rollout tab: attention rollout and flow of each self-attention stack (see rolloutView.ts).
import { showRollout } from '../rolloutView';
import type { PanelContext, Tab } from './tab';

export function rolloutTab(ctx: PanelContext): Tab {
  return {
    draw(root) {
      void showRollout(root, ctx.host, ctx.summary, ctx.state.rolloutOutputs ?? [], (rolloutOutputs) => ctx.update({ rolloutOutputs })).then(ctx.ready);
    },
  };
}
