// The rollout view: what each output position (the top layer's) draws from each input position
// (the embeddings'), by attention rollout and, where it was computed, attention flow (Abnar &
// Zuidema 2020), as token x token heatmaps; a click on a row shows that output's distribution
// over the inputs.
import Plotly from 'plotly.js-dist';
import { layerTokens } from '../src/analysis/attentionCapture';
import type { RolloutStack } from '../src/analysis/attentionRollout';
import type { CaptureSummary } from '../src/protocol';
import { note, plotDiv } from './elements';
import { exportButtons } from './exports';
import { Axes, drawHead } from './headView';
import type { HostApi } from './hostApi';
import { PLOT_CONFIG, plotLayout } from './theme';
import { fitTokenTicks, tokenTicks } from './tokenTicks';

// The frame around the chosen output's row: the sparse-pattern overlay's orange, apart from every colour of the map.
const ROW_FRAME = '#ff8c00';

/** The methods a stack has: rollout always, flow where it was within its budget. */
const stackMethods = (stack: RolloutStack): { method: 'rollout' | 'flow'; rows: number[][] }[] =>
  (['rollout', 'flow'] as const).flatMap((method) => {
    const rows = stack[method];
    return rows ? [{ method, rows }] : [];
  });

/** The tokens a stack's outputs and inputs stand for: an encoder-decoder's decoder's are the target's. */
const stackTokens = (s: CaptureSummary, stack: RolloutStack): string[] => layerTokens(s, stack.part).keys.tokens;

const stackName = (stack: RolloutStack): string => (stack.part ? `${stack.part === 'encoder' ? 'Encoder' : 'Decoder'} · ` : '');

/** A causal stack's last output has seen every input; an encoder's first is its [CLS]. */
const firstShown = (stack: RolloutStack): number => (stack.rollout.every((row, i) => row.every((v, j) => j <= i || v === 0)) ? stack.rollout.length - 1 : 0);

const rowFrame = (i: number, n: number): object => ({ type: 'rect', xref: 'x', yref: 'y', x0: -0.5, x1: n - 0.5, y0: i - 0.5, y1: i + 0.5, line: { color: ROW_FRAME, width: 2 } });

/** One output's distribution over the inputs, by each method the stack has. */
function drawOutput(root: HTMLElement, stack: RolloutStack, axes: Axes, i: number): Promise<void> {
  const tokens = axes.keys;
  const methods = stackMethods(stack);
  const x = tokens.map((_, j) => j);
  return Plotly.react(
    root,
    methods.map(({ method, rows }) => ({ type: 'bar', name: method, x, y: rows[i], customdata: tokens, hovertemplate: `${method}: %{customdata} (%{x}) %{y:.4f}<extra></extra>` })),
    plotLayout({
      margin: { l: 60, r: 20, t: 40, b: 60 },
      barmode: 'group',
      showlegend: methods.length > 1,
      title: { text: `${stackName(stack)}what ${tokens[i]} (${i}) draws from each input` },
      xaxis: { ...tokenTicks(tokens, 0, tokens.length - 1, root.clientWidth - 100), tickangle: -90, title: { text: axes.keyTitle } },
      yaxis: { title: { text: 'share' }, rangemode: 'tozero' },
    }),
    PLOT_CONFIG,
  )
    .then(() => fitTokenTicks(root, { xaxis: tokens }))
    .then(() => root.setAttribute('data-output', String(i)));
}

/** Rows of every stack and method in long form: one weight a line. */
function csvRows(s: CaptureSummary, stacks: RolloutStack[]): (string | number)[][] {
  const rows: (string | number)[][] = [['stack', 'method', 'output', 'outputToken', 'input', 'inputToken', 'weight']];
  for (const stack of stacks) {
    const tokens = stackTokens(s, stack);
    for (const { method, rows: m } of stackMethods(stack)) m.forEach((row, i) => row.forEach((v, j) => rows.push([stack.part ?? 'self', method, i, tokens[i], j, tokens[j], v])));
  }
  return rows;
}

/**
 * The view into `root`: per stack the rollout's heatmap (and the flow's beside it), the chosen
 * output's distribution below, and the notes that say what the product assumes. `outputs` are
 * the outputs chosen before (per stack); `onOutputs` hears of a click.
 */
export async function showRollout(root: HTMLElement, host: HostApi, s: CaptureSummary, outputs: readonly number[], onOutputs: (outputs: number[]) => void): Promise<void> {
  const r = s.analysis?.rollout;
  const notes = (r?.notes ?? ['No rollout in this result.']).map((text) => note(text));
  if (!r?.stacks.length) {
    root.append(...notes);
    return;
  }
  const chosen = r.stacks.map((stack, k) => (outputs[k] !== undefined && outputs[k] < stack.rollout.length ? outputs[k] : firstShown(stack)));
  const sections = r.stacks.map((stack, k) => {
    const row = document.createElement('div');
    row.className = 'row';
    const heatmaps = stackMethods(stack).map((m) => ({ ...m, el: plotDiv(`${m.method}-${k}`) }));
    row.append(...heatmaps.map((h) => h.el));
    return { stack, heatmaps, bars: plotDiv(`rollout-output-${k}`, 'plot output'), row };
  });
  root.append(
    exportButtons(host, 'rollout', () => sections[0].heatmaps[0].el, () => ({ notes: r.notes, stacks: r.stacks.map((stack) => ({ ...stack, tokens: stackTokens(s, stack) })) }), () => csvRows(s, r.stacks)),
    ...sections.flatMap((x) => [x.row, x.bars]),
    ...notes,
  );
  await Promise.all(
    sections.map(async ({ stack, heatmaps, bars }, k) => {
      const tokens = stackTokens(s, stack);
      const n = tokens.length;
      const side = stack.part === 'decoder' ? ' (target)' : stack.part === 'encoder' ? ' (source)' : '';
      const axes: Axes = { queries: tokens, keys: tokens, queryTitle: `output${side}, top layer`, keyTitle: `input${side}, embeddings` };
      const select = (i: number): Promise<unknown> => {
        chosen[k] = i;
        return Promise.all([...heatmaps.map((h) => Plotly.relayout(h.el, { shapes: [rowFrame(i, n)] })), drawOutput(bars, stack, axes, i)]);
      };
      await Promise.all(
        heatmaps.map(async ({ method, rows, el }) => {
          await drawHead(el, axes, { queries: n, keys: n, probs: Float32Array.from(rows.flat()) });
          // the title at the left, clear of plotly's mode bar
          await Plotly.relayout(el, { 'margin.t': 40, title: { text: `${stackName(stack)}attention ${method} · layers ${stack.layers.join(', ')}`, x: 0, xref: 'paper', xanchor: 'left' } });
          (el as unknown as { on(event: string, cb: (e: { points: { y: number }[] }) => void): void }).on('plotly_click', (e) => {
            const p = e.points[0];
            if (!p) return;
            void select(p.y);
            onOutputs([...chosen]);
          });
        }),
      );
      await select(chosen[k]);
    }),
  );
}
