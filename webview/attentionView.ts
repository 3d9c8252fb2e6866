// The attention panel: a header naming the model and the text, the masked-LM predictions, and a
// tab bar over the views (one module each under tabs/). One AttentionView per panel holds its
// state; the tab shown receives the host's answers to its requests.
import { CaptureSource, CaptureSummary, HostMessage, PanelMethod, WebviewState, modelName, textPreview } from '../src/protocol';
import { note, tabBar } from './elements';
import type { HostApi } from './hostApi';
import { PanelRequests, panelRequests } from './panelRequests';
import { predictionsList } from './predictionsView';
import { bucketsTab } from './tabs/bucketsTab';
import { headTab } from './tabs/headTab';
import { methodsTab } from './tabs/methodsTab';
import { modelTab } from './tabs/modelTab';
import { offerHeadMapAgain, overviewTab } from './tabs/overviewTab';
import { relativeTab } from './tabs/relativeTab';
import { rolloutTab } from './tabs/rolloutTab';
import { spansTab } from './tabs/spansTab';
import { tokenTab } from './tabs/tokenTab';
import { PanelContext, TAB_NAMES, Tab, TabFactory, TabMethod, TabName } from './tabs/tab';

const TABS: Record<TabName, TabFactory> = {
  overview: overviewTab,
  model: modelTab,
  head: headTab,
  token: tokenTab,
  spans: spansTab,
  relative: relativeTab,
  rollout: rolloutTab,
  methods: methodsTab,
  buckets: bucketsTab,
};

/** The tabs drawn from the head analysis; the others ask the host for what they draw. */
const needsAnalysis = (tab: TabName): boolean => !['head', 'model', 'token'].includes(tab);

/** Tokens read back as words: special tokens left out, WordPiece's ## pieces joined to their word. */
const tokenWords = (tokens: readonly string[]): string =>
  tokens
    .filter((t) => !/^(\[[A-Z]+\]|<\|?[\w|]+\|?>)$/.test(t))
    .join(' ')
    .replace(/ ##/g, '');

/** The text the capture read: the source's, or its tokens (the report, ids); none for the induction probe. */
function analysedText(s: CaptureSummary): string | undefined {
  if (s.probe) return undefined;
  const text = s.source?.ids ? undefined : s.source?.text;
  const target = s.source?.targetText ? `\n→ ${s.source.targetText}` : '';
  return `${text ?? tokenWords(s.tokens)}${target}`;
}

export class AttentionView {
  private readonly requests: PanelRequests<TabMethod | 'headMap'>;
  private summary?: CaptureSummary;
  private state: WebviewState;
  private tab?: Tab;
  /** shows which tab is active: the bar's, once render has drawn it */
  private markTab: (tab: TabName) => void = () => {};

  constructor(
    private readonly host: HostApi,
    private readonly app: HTMLElement,
  ) {
    this.state = host.getState() ?? { layer: 0, head: 0 };
    const toTab =
      <M extends TabMethod>(method: M) =>
      (result: Parameters<NonNullable<NonNullable<Tab['answers']>[M]>>[0]): void =>
        (this.tab?.answers?.[method] as ((r: typeof result) => void) | undefined)?.(result);
    this.requests = panelRequests(
      host,
      { head: toTab('head'), tile: toTab('tile'), window: toTab('window'), tokenRow: toTab('tokenRow'), buckets: toTab('buckets'), headMap: (s) => this.render(s) },
      (method, message) => this.failed(method, message),
    );
  }

  message(m: HostMessage): void {
    if (m.type === 'summary') this.render(m.summary);
    else if (m.type === 'reply') this.requests.settle(m);
    else if (m.type === 'notice') {
      // the source is kept, so that the panel can be restored again once it may run
      this.update({ source: m.source ?? this.state.source });
      this.app.replaceChildren(note(m.message));
    }
  }

  /** The panel drawn again in the theme's colours: the tab from what it holds, or anew. */
  repaint(): void {
    if (!this.summary || !document.getElementById('view')) return;
    if (this.tab?.repaint) this.tab.repaint();
    else this.show(this.shownTab());
  }

  private update(patch: Partial<WebviewState>): void {
    this.state = { ...this.state, ...patch };
    this.host.setState(this.state);
  }

  private shownTab(): TabName {
    return TAB_NAMES.find((t) => t === this.state.view) ?? (this.summary?.analysis ? 'overview' : 'head');
  }

  private render(s: CaptureSummary): void {
    this.summary = s;
    // A new model or text opens on the overview; the same one (a reload, a head map, the lab run on it) stays where it was.
    const read = (source: CaptureSource | undefined): string => JSON.stringify({ ...source, lab: undefined });
    const fresh = this.state.source !== undefined && read(this.state.source) !== read(s.source);
    this.update({ source: s.source, ...(fresh ? { view: 'overview' } : {}) });
    // the induction probe opens coloured by its score, unless the user chose another for it
    if (s.probe && (fresh || this.state.statistic === undefined)) this.update({ statistic: 'induction' });
    if (this.state.layer >= s.layers.length) this.update({ layer: 0, head: 0 });
    if (this.state.head >= s.layers[this.state.layer].heads) this.update({ head: 0 });
    this.app.replaceChildren(this.header(s));
    const analysed = analysedText(s);
    if (analysed) {
      const details = document.createElement('details');
      details.id = 'analysed-text';
      const label = document.createElement('summary');
      label.textContent = s.source?.corpus ? 'First text of the corpus' : 'Text';
      const body = document.createElement('p');
      const source = s.source;
      // the text's tokens can be clicked: each opens the token view on it
      if (source?.text && !source.ids && !source.probe && !source.corpus) {
        body.append(...this.tokenSpans(source.text, s.offsets, 'source'));
        if (source.targetText && s.target) body.append('\n→ ', ...this.tokenSpans(source.targetText, s.target.offsets, 'target'));
      } else body.textContent = analysed;
      details.append(label, body);
      this.app.appendChild(details);
    }
    const predictions = predictionsList(s);
    if (predictions) this.app.appendChild(predictions);
    for (const w of s.warnings) this.app.appendChild(note(w, 'warning'));
    const tabs = tabBar(TAB_NAMES, 'view', (t) => this.show(t));
    this.markTab = tabs.mark;
    this.app.appendChild(tabs.nav);
    const view = document.createElement('div');
    view.id = 'view';
    this.app.appendChild(view);
    this.show(this.shownTab());
  }

  /** A text as its tokens' pieces (and what lies between them), each piece opening the token view on its token. */
  private tokenSpans(text: string, offsets: readonly [number, number][], side: 'source' | 'target'): (HTMLElement | string)[] {
    const parts: (HTMLElement | string)[] = [];
    let at = 0;
    offsets.forEach(([start, end], token) => {
      if (end <= start || start < at) return;
      if (start > at) parts.push(text.slice(at, start));
      const span = document.createElement('span');
      span.className = 'text-token';
      span.dataset.token = String(token);
      span.textContent = text.slice(start, end);
      span.title = `token ${token}: its attention in every head`;
      span.addEventListener('click', () => {
        this.update({ token, tokenSide: 'query', tokenText: side });
        this.show('token');
      });
      parts.push(span);
      at = end;
    });
    if (at < text.length) parts.push(text.slice(at));
    return parts;
  }

  private header(s: CaptureSummary): HTMLElement {
    const header = document.createElement('header');
    const heads = s.layers.reduce((a, l) => a + l.heads, 0);
    const length = s.target ? `${s.tokens.length} source and ${s.target.tokens.length} target tokens` : `${s.tokens.length} tokens`;
    const texts = s.analysis && s.analysis.texts > 1 ? ` · statistics over ${s.analysis.texts} texts, heatmaps of the first (${length})` : ` · ${length}`;
    const probe = s.probe ? ` · the induction probe: ${s.probe.length} random tokens shown twice (seed ${s.probe.seed})` : '';
    const model = document.createElement('span');
    model.className = 'model';
    model.textContent = s.modelLabel?.name ?? modelName(s.modelPath);
    model.title = s.modelLabel?.detail ?? s.modelPath;
    const provider = document.createElement('span');
    provider.textContent = `ran on ${s.executionProvider.toUpperCase()}`;
    provider.title = s.executionProviderLine ?? s.executionProvider;
    header.append(model, `${probe}${texts} · ${s.layers.length} layers, ${heads} heads · `, provider);
    // a panel of the editor's runs the model again, or sets itself beside another; the report cannot
    if (s.source && !this.host.saveFile) {
      const button = (id: string, text: string, title: string, type: 'runAgain' | 'compareWith'): void => {
        const b = document.createElement('button');
        b.id = id;
        b.textContent = text;
        b.title = title;
        b.addEventListener('click', () => this.host.postMessage({ type }));
        header.appendChild(b);
      };
      button('run-again', 'Run again with…', 'another text for this model, shown in this panel', 'runAgain');
      button('compare-with', 'Compare with…', 'this analysis beside another open one: two texts, or two checkpoints of the same shape', 'compareWith');
    }
    return header;
  }

  /** An export's title: the model and the text it read, then what is shown. */
  private exportTitle(s: CaptureSummary, what: string): string {
    const text = s.probe ? 'the induction probe' : `“${textPreview(analysedText(s) ?? '', 60)}”`;
    return `${s.modelLabel?.name ?? modelName(s.modelPath)} · ${text} · ${what}`;
  }

  private show(name: TabName): void {
    const s = this.summary!;
    this.update({ view: name });
    this.markTab(name);
    const root = document.getElementById('view')!;
    root.replaceChildren();
    root.removeAttribute('data-ready');
    const view = this;
    const ctx: PanelContext = {
      host: this.host,
      summary: s,
      get state() {
        return view.state;
      },
      update: (patch) => this.update(patch),
      ask: (call) => this.requests.ask(call),
      show: (t) => this.show(t),
      ready: () => root.setAttribute('data-ready', name),
      exportTitle: (what) => this.exportTitle(s, what),
    };
    if (needsAnalysis(name) && !s.analysis) {
      this.tab = undefined;
      root.appendChild(note('No head analysis in this result.'));
      return;
    }
    this.tab = TABS[name](ctx);
    this.tab.draw(root);
  }

  /** Says why the host could not answer; a head map that failed or was cancelled can be asked for again. */
  private failed(method: PanelMethod, message: string): void {
    if (method === 'headMap') offerHeadMapAgain();
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = message;
    this.app.appendChild(p);
  }
}
