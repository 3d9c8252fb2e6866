// The attention view: a header, layer and head pickers, and the selected head's heatmap.
import type { CaptureSummary, HostMessage, WebviewState } from '../src/protocol';
import { drawHead } from './headView';
import { HostApi } from './hostApi';

let host: HostApi;
let app: HTMLElement;
let summary: CaptureSummary | undefined;
let state: WebviewState = { layer: 0, head: 0 };
let nextId = 1;
let awaited = 0;

function dropdown(label: string, count: number, selected: number, name: (i: number) => string, onChange: (i: number) => void): HTMLElement {
  const wrap = document.createElement('label');
  wrap.className = 'picker';
  wrap.textContent = label;
  const dd = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  for (let i = 0; i < count; i++) {
    const opt = document.createElement('vscode-option') as HTMLElement & { value: string };
    opt.value = String(i);
    opt.textContent = name(i);
    if (i === selected) opt.setAttribute('selected', '');
    dd.appendChild(opt);
  }
  dd.addEventListener('change', () => onChange(Number(dd.value)));
  wrap.appendChild(dd);
  return wrap;
}

function requestHead(): void {
  awaited = nextId++;
  host.postMessage({ type: 'requestHead', id: awaited, layer: state.layer, head: state.head });
  host.setState(state);
}

function render(s: CaptureSummary): void {
  summary = s;
  if (state.layer >= s.layers.length) state = { layer: 0, head: 0 };
  if (state.head >= s.layers[state.layer].heads) state = { ...state, head: 0 };
  app.replaceChildren();
  const header = document.createElement('header');
  const heads = s.layers.reduce((a, l) => a + l.heads, 0);
  header.textContent = `${s.modelPath} · ${s.tokens.length} tokens · ${s.layers.length} layers, ${heads} heads · ran on ${s.executionProvider.toUpperCase()}`;
  app.appendChild(header);
  for (const w of s.warnings) {
    const p = document.createElement('p');
    p.className = 'warning';
    p.textContent = w;
    app.appendChild(p);
  }
  const controls = document.createElement('div');
  controls.className = 'controls';
  controls.append(
    dropdown('Layer', s.layers.length, state.layer, (i) => `${i}: ${s.layers[i].name}`, (layer) => {
      state = { layer, head: Math.min(state.head, s.layers[layer].heads - 1) };
      requestHead();
    }),
    dropdown('Head', s.layers[state.layer].heads, state.head, (i) => String(i), (head) => {
      state = { ...state, head };
      requestHead();
    }),
  );
  app.appendChild(controls);
  const plot = document.createElement('div');
  plot.id = 'heatmap';
  app.appendChild(plot);
  requestHead();
}

export function startAttentionView(api: HostApi, root: HTMLElement): void {
  host = api;
  app = root;
  state = host.getState() ?? state;
}

export function attentionMessage(m: HostMessage): void {
  if (m.type === 'summary') render(m.summary);
  else if (m.type === 'headMatrix' && m.id === awaited) {
    const plot = document.getElementById('heatmap');
    if (summary && plot) void drawHead(plot, summary.tokens, m.matrix);
  } else if (m.type === 'error' && m.id === awaited) {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = m.message;
    app.appendChild(p);
  }
}
