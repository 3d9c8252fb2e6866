// What every tab of the attention panel is given (the panel's state object, one per panel) and
// what it gives back: its drawing, and what it does with the host's answers to its requests.
import { HEAD_STAT_KEYS } from '../../src/analysis/headStatKeys';
import type { CaptureSummary, PanelCall, WebviewState } from '../../src/protocol';
import type { HostApi } from '../hostApi';
import type { PanelAnswers } from '../panelRequests';

/** The tabs, in their order on the bar. */
export const TAB_NAMES = ['overview', 'model', 'head', 'token', 'spans', 'relative', 'rollout', 'methods', 'buckets'] as const;
export type TabName = (typeof TAB_NAMES)[number];

/** The requests a tab may make: the head map's belongs to the panel, which draws the summary anew. */
export type TabMethod = 'head' | 'tile' | 'window' | 'tokenRow' | 'buckets';

export interface PanelContext {
  readonly host: HostApi;
  readonly summary: CaptureSummary;
  /** the panel's state as it stands (layer, head, the tabs' choices), kept across reloads */
  readonly state: WebviewState;
  /** changes part of the state and keeps it */
  update(patch: Partial<WebviewState>): void;
  /** asks the host; the answer goes to the shown tab's `answers` */
  ask(call: PanelCall<TabMethod | 'headMap'>): void;
  /** shows another tab */
  show(tab: TabName): void;
  /** marks the shown tab drawn (what tests and screenshots wait for) */
  ready(): void;
  /** an export's title: the model and the text, then what is shown */
  exportTitle(what: string): string;
}

export interface Tab {
  /** draws the tab into its element; the tab calls ready() once it is drawn */
  draw(root: HTMLElement): void;
  /** draws it again in the theme's colours, from what it holds */
  repaint?(): void;
  answers?: Partial<PanelAnswers<TabMethod>>;
}

export type TabFactory = (ctx: PanelContext) => Tab;

/** Every head's statistics as rows (a header first): the CSV of the views drawn from them. */
export function headRows(s: CaptureSummary): (string | number | null)[][] {
  const heads = s.analysis?.heads ?? [];
  return [['layer', 'head', ...HEAD_STAT_KEYS, 'labels'], ...heads.map((h) => [h.layer, h.head, ...HEAD_STAT_KEYS.map((k) => h[k]), h.labels.join(' ')])];
}
