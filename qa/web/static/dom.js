// Small DOM and formatting helpers shared by the chat page's modules.
// Security rule for every module here: data from the server or the user is only ever
// inserted with textContent / createElement, never innerHTML.

export const API = document.body.dataset.apiBase || '';
export const $ = (id) => document.getElementById(id);

/** createElement with class, attributes and children (strings become text nodes). */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of [].concat(children)) {
    if (c !== null && c !== undefined) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

export const articleHref = (id, start, end) => {
  const base = `${API}/articles/${encodeURIComponent(id)}`;
  return Number.isInteger(start) && Number.isInteger(end) ? `${base}?start=${start}&end=${end}#quote` : base;
};

export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Milliseconds as people read them: "38 ms" under a second, "2.4 s" above. */
export function formatMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An ISO 8601 date or timestamp as a short human date ("Sep 1, 2024" in the reader's
 * locale), or null when it is missing or unreadable. A bare date is a calendar day, so
 * it is read in UTC: in a time zone west of Greenwich it would otherwise show a day early.
 */
export function formatDate(iso) {
  if (typeof iso !== 'string' || !iso) return null;
  const bare = DATE_ONLY.test(iso);
  const date = new Date(bare ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return null;
  const options = { year: 'numeric', month: 'short', day: 'numeric' };
  if (bare) options.timeZone = 'UTC';
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

/** The address only when it is http(s): a javascript: or data: URL never becomes a link. */
export function safeUrl(value) {
  if (typeof value !== 'string' || !value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * Date, outlet and a link to the original, for a citation or an article; null when it
 * has none of them, so nothing empty is shown. Separators come from CSS, so a missing
 * field leaves no stray dot.
 */
export function sourceMeta(item, className = 'source-meta') {
  const parts = [];
  const shown = formatDate(item.published);
  if (shown) parts.push(el('time', { datetime: item.published, title: item.published, text: shown }));
  if (typeof item.source === 'string' && item.source.trim()) {
    parts.push(el('span', { class: 'meta-outlet', text: item.source.trim() }));
  }
  const url = safeUrl(item.url);
  if (url) {
    const host = url.hostname.replace(/^www\./, '');
    parts.push(el('a', {
      class: 'original-link', href: url.href, target: '_blank', rel: 'noopener noreferrer',
      'aria-label': `Original article on ${host} (opens in a new tab)`,
    }, [host, el('span', { class: 'external', 'aria-hidden': 'true', text: ' ↗' })]));
  }
  return parts.length ? el('div', { class: className }, parts) : null;
}

/**
 * Show Markdown **bold** (the articles' headings) as bold instead of asterisks.
 * Only text nodes and <strong> elements are made, so the text stays inert.
 */
export function withBold(text) {
  const nodes = [];
  let last = 0;
  for (const m of text.matchAll(/\*\*([^*\n]+)\*\*/g)) {
    nodes.push(text.slice(last, m.index), el('strong', { text: m[1] }));
    last = m.index + m[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}
