// The panels' small elements: a paragraph of a note or warning, a chart's div, a table (in a
// strip that scrolls sideways), and a bar of tabs.

/** A paragraph of `text`: a note, or a warning. */
export function note(text: string, className: 'note' | 'warning' = 'note'): HTMLElement {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = text;
  return p;
}

/** The div a chart is drawn into. */
export function plotDiv(id: string, className = 'plot'): HTMLElement {
  const el = document.createElement('div');
  el.id = id;
  el.className = className;
  return el;
}

/** A table of a header (none when empty) and rows, the figures as they come. */
export function tableOf(header: string[], rows: (string | number)[][], className = 'estimate'): HTMLTableElement {
  const table = document.createElement('table');
  table.className = className;
  if (header.length) {
    const head = table.createTHead().insertRow();
    for (const h of header) {
      const th = document.createElement('th');
      th.textContent = h;
      head.appendChild(th);
    }
  }
  const body = table.createTBody();
  for (const cells of rows) {
    const row = body.insertRow();
    for (const cell of cells) row.insertCell().textContent = String(cell);
  }
  return table;
}

/** `el` in a strip that scrolls sideways, for a table wider than the panel. */
export function scrolling(el: HTMLElement): HTMLElement {
  const scroll = document.createElement('div');
  scroll.className = 'scroll-x';
  scroll.appendChild(el);
  return scroll;
}

/**
 * A bar of tabs, a button each with its name in data-`key`; `mark` shows which is active.
 * `onClick` hears a click on one.
 */
export function tabBar<T extends string>(names: readonly T[], key: string, onClick: (name: T) => void): { nav: HTMLElement; mark: (active: T) => void } {
  const nav = document.createElement('nav');
  nav.className = 'tabs';
  nav.setAttribute('role', 'tablist');
  const buttons = names.map((name) => {
    const b = document.createElement('button');
    b.textContent = name;
    b.dataset[key] = name;
    b.setAttribute('role', 'tab');
    b.addEventListener('click', () => onClick(name));
    return b;
  });
  nav.append(...buttons);
  const mark = (active: T): void => {
    for (const b of buttons) {
      b.className = b.dataset[key] === active ? 'active' : '';
      b.setAttribute('aria-selected', String(b.dataset[key] === active));
    }
  };
  return { nav, mark };
}
