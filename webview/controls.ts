// The panels' controls: a toolkit dropdown and a checkbox, each with its label.
export function dropdown(label: string, count: number, selected: number, name: (i: number) => string, onChange: (i: number) => void): HTMLElement {
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

export function checkbox(id: string, label: string, checked: boolean, onChange: (on: boolean) => void): HTMLElement {
  const wrap = document.createElement('label');
  wrap.className = 'picker';
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.id = id;
  box.checked = checked;
  box.addEventListener('change', () => onChange(box.checked));
  wrap.append(box, label);
  return wrap;
}
