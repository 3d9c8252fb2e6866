// What a person would see wrong in a drawn panel, measured in the page: content out of reach
// sideways, tick labels that overprint or are cut off, a colour map whose low end melts into the
// background, text below WCAG's 4.5:1, a tooltip past the panel's edge. Installed with
// page.addInitScript (the host's type-check knows no DOM); each check returns its problems.
export const PAGE_CHECKS = `
(() => {
  const rgb = (c) => {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.fillStyle = '#000';
    ctx.fillStyle = c;
    const v = ctx.fillStyle;
    if (v.startsWith('#')) { const n = parseInt(v.slice(1), 16); return [(n >> 16) & 255, (n >> 8) & 255, n & 255, 1]; }
    const [r, g, b, a] = v.match(/[\\d.]+/g).map(Number);
    return [r, g, b, a ?? 1];
  };
  const lum = ([r, g, b]) => { const l = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4); return 0.2126 * l(r) + 0.7152 * l(g) + 0.0722 * l(b); };
  // a translucent colour over the background, as it is seen
  const over = (c, bg) => c[3] >= 1 ? c : [0, 1, 2].map((i) => c[i] * c[3] + bg[i] * (1 - c[3]));
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const page = () => rgb(getComputedStyle(document.body).backgroundColor);
  const backgroundOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c[3] > 0) return over(c, page()); } return page(); };
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const labelsOf = (plot) => {
    const groups = new Map();
    for (const t of plot.querySelectorAll('g[class$="tick"] > text, g[class$="tick2"] > text')) {
      if (!t.textContent.trim() || getComputedStyle(t).display === 'none' || t.getAttribute('opacity') === '0') continue;
      const group = t.parentNode.getAttribute('class') + (t.closest('.colorbar') ? ' colorbar' : '');
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push(t);
    }
    return groups;
  };
  window.layoutProblems = () => {
    const problems = [];
    const width = innerWidth;
    if (document.documentElement.scrollWidth > width + 1) problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px in ' + width);
    const nav = document.querySelector('nav.tabs');
    if (nav.scrollWidth > nav.clientWidth + 1) problems.push('the tab bar hides ' + (nav.scrollWidth - nav.clientWidth) + ' px');
    for (const b of nav.querySelectorAll('button')) { const r = b.getBoundingClientRect(); if (r.left < 0 || r.right > width + 1) problems.push('tab ' + b.dataset.view + ' out of reach'); }
    for (const plot of document.querySelectorAll('#view .js-plotly-plot')) {
      const box = plot.getBoundingClientRect();
      const ticks = [...labelsOf(plot).values()].flat();
      for (const title of plot.querySelectorAll('.g-xtitle text, .g-ytitle text, .g-y2title text')) {
        const r = title.getBoundingClientRect();
        const under = ticks.find((t) => hit(r, t.getBoundingClientRect()));
        if (under) problems.push(plot.id + ': axis title "' + title.textContent + '" over the label "' + under.textContent + '"');
        if (r.left < box.left - 2 || r.right > box.right + 2 || r.top < box.top - 2 || r.bottom > box.bottom + 2) problems.push(plot.id + ': axis title "' + title.textContent + '" cut off');
      }
      for (const [group, labels] of labelsOf(plot)) {
        const rects = labels.map((t) => t.getBoundingClientRect());
        rects.forEach((r, i) => {
          if (r.left < box.left - 2 || r.right > box.right + 2 || r.top < box.top - 2 || r.bottom > box.bottom + 2) problems.push(plot.id + ': ' + group + ' label "' + labels[i].textContent + '" cut off');
          for (let j = i + 1; j < rects.length; j++) if (hit(r, rects[j])) { problems.push(plot.id + ': ' + group + ' labels "' + labels[i].textContent + '" and "' + labels[j].textContent + '" overlap'); return; }
        });
      }
    }
    return problems;
  };
  /** the map's lowest colour against the page in every heatmap, and text against what is behind it */
  window.contrastProblems = () => {
    const problems = [];
    const bg = page();
    for (const plot of document.querySelectorAll('#view .js-plotly-plot')) {
      for (const t of plot.data ?? []) {
        if (t.type !== 'heatmap' || !Array.isArray(t.colorscale) || t.showscale === false) continue;
        const ratio = contrast(over(rgb(t.colorscale[0][1]), bg), bg);
        if (ratio < 1.3) problems.push(plot.id + ': lowest colour ' + t.colorscale[0][1] + ' at ' + ratio.toFixed(2) + ':1 against the page');
      }
      const tick = plot.querySelector('g.xtick > text, g.ytick > text');
      if (tick) { const ratio = contrast(over(rgb(getComputedStyle(tick).fill), bg), bg); if (ratio < 4.5) problems.push(plot.id + ': tick labels at ' + ratio.toFixed(2) + ':1'); }
    }
    for (const el of document.querySelectorAll('header, nav.tabs button, .controls label, .note')) {
      const ratio = contrast(over(rgb(getComputedStyle(el).color), backgroundOf(el)), backgroundOf(el));
      if (ratio < 4.5) problems.push((el.dataset.view ?? el.tagName) + ': text at ' + ratio.toFixed(2) + ':1');
    }
    return problems;
  };
  /** the boxes of labels drawn beside a scatter's points that overlap */
  window.pointLabelOverlaps = (id) => {
    const rects = [...document.querySelectorAll('#' + id + ' .textpoint text')].filter((t) => t.textContent.trim()).map((t) => [t.textContent, t.getBoundingClientRect()]);
    const overlaps = [];
    rects.forEach(([a, r], i) => rects.slice(i + 1).forEach(([b, q]) => hit(r, q) && overlaps.push(a + ' / ' + b)));
    return { shown: rects.length, overlaps };
  };
  /** the active tab's outline or border in its colour, and how far its look is from an inactive one's */
  window.activeTabLook = () => {
    const look = (b) => { const s = getComputedStyle(b); return [s.backgroundColor, s.outlineStyle + ' ' + s.outlineColor, s.borderTopColor, s.fontWeight, s.textDecorationLine].join(' | '); };
    return { active: look(document.querySelector('nav.tabs button.active')), other: look(document.querySelector('nav.tabs button:not(.active)')) };
  };
})();
`;
