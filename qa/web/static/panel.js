// The side panel: an article with the cited quote highlighted, and the sources view,
// which pages through the corpus (GET /articles?limit=&offset=) or searches it.

import { API, $, articleHref, el, plural, sourceMeta, withBold } from './dom.js';
import { ApiError, getJSON } from './api.js';

const PAGE = 50; // articles per page of the sources view

const ui = {
  panel: $('source-panel'), title: $('source-panel-title'), close: $('panel-close'),
  back: $('panel-back'), sourcesView: $('sources-view'), articleView: $('article-view'),
  searchForm: $('sources-search'), searchInput: $('sources-query'), status: $('sources-status'),
  list: $('sources-list'), more: $('sources-more'), articleStatus: $('article-status'),
  articleMeta: $('article-meta'), articleText: $('article-text'), articleLink: $('article-full-link'),
  sourcesBtn: $('sources-button'), question: $('question'),
};

const state = {
  opener: null,        // element to refocus when the panel closes
  articles: new Map(), // article_id -> Promise<article>
  articleSeq: 0,
  searchSeq: 0,
  // The corpus as paged so far: what is listed, how many there are, the page in flight.
  corpus: { items: [], ids: new Set(), total: null, loading: null },
};

function openPanel(view, opener) {
  if (ui.panel.hidden) state.opener = opener || document.activeElement;
  ui.panel.hidden = false;
  document.body.classList.add('panel-open');
  ui.sourcesView.hidden = view !== 'sources';
  ui.articleView.hidden = view !== 'article';
  ui.sourcesBtn.setAttribute('aria-expanded', String(view === 'sources'));
  // On phones the panel is a full-screen overlay: keep focus out of what it covers.
  setBackgroundInert(window.matchMedia('(max-width: 760px)').matches);
}

function setBackgroundInert(inert) {
  for (const node of [document.querySelector('.app-header'), $('chat')]) node.inert = inert;
}

/** Show which marker or card the panel belongs to. */
function markOpen(opener) {
  for (const n of document.querySelectorAll('.is-open')) n.classList.remove('is-open');
  if (opener && opener.matches && opener.matches('a.cite, a.source-card')) opener.classList.add('is-open');
}

export function closePanel() {
  if (ui.panel.hidden) return;
  markOpen(null);
  ui.panel.hidden = true;
  document.body.classList.remove('panel-open');
  setBackgroundInert(false);
  ui.sourcesBtn.setAttribute('aria-expanded', 'false');
  const back = state.opener;
  state.opener = null;
  (back && back.isConnected ? back : ui.question).focus();
}

export const sourcesOpen = () => !ui.panel.hidden && !ui.sourcesView.hidden;

function fetchArticle(id) {
  if (!state.articles.has(id)) {
    const p = getJSON(articleHref(id));
    p.catch(() => state.articles.delete(id)); // do not cache failures
    state.articles.set(id, p);
  }
  return state.articles.get(id);
}

/**
 * Find the highlight range in UTF-16 units. Server offsets are Python
 * code-point offsets, so convert; if they do not match the quote, fall
 * back to searching for the quote text.
 */
function highlightRange(text, start, end, quote) {
  let range = null;
  if (Number.isInteger(start) && Number.isInteger(end) && end > start) {
    const cps = Array.from(text);
    const s = cps.slice(0, start).join('').length;
    range = [s, s + cps.slice(start, end).join('').length];
  }
  // Quotes may be shortened with "..."; compare only their first words.
  const head = (quote || '').split(/\s*(?:\.\.\.|…)\s*/)[0].slice(0, 30);
  if (range && range[1] > range[0] && (!head || text.slice(range[0], range[1]).includes(head))) return range;
  const i = quote ? text.indexOf(quote) : -1;
  if (i >= 0) return [i, i + quote.length];
  return range && range[1] > range[0] ? range : null;
}

function setArticleMeta(item) {
  const meta = sourceMeta(item, 'article-meta-line');
  ui.articleMeta.replaceChildren(...(meta ? [meta] : []));
  ui.articleMeta.hidden = !meta;
}

/** Show an article in the panel with [start,end) (or the quote text) highlighted. */
export async function showArticle(cited, opener, fromSources = false) {
  const { article_id: id, title, start, end, quote } = cited;
  openPanel('article', opener);
  markOpen(opener);
  ui.back.hidden = !fromSources;
  ui.title.textContent = title || 'Article';
  ui.articleLink.href = articleHref(id, start, end);
  setArticleMeta(cited); // what the citation knows, until the article itself arrives
  ui.articleText.replaceChildren();
  ui.articleStatus.textContent = 'Loading article…';
  ui.title.focus();
  const seq = ++state.articleSeq;
  try {
    const art = await fetchArticle(id);
    if (seq !== state.articleSeq || ui.articleView.hidden) return; // superseded by another click
    const text = typeof art.text === 'string' ? art.text : '';
    ui.title.textContent = art.title || title || 'Article';
    ui.articleStatus.textContent = '';
    // The stored article has the last word; a field it lacks falls back to the citation's.
    setArticleMeta({
      published: art.published || cited.published, source: art.source || cited.source, url: art.url || cited.url,
    });
    const range = highlightRange(text, start, end, quote);
    if (!range) { ui.articleText.append(...withBold(text)); return; }
    const mark = el('mark', {}, withBold(text.slice(range[0], range[1])));
    ui.articleText.append(...withBold(text.slice(0, range[0])), mark, ...withBold(text.slice(range[1])));
    mark.scrollIntoView({ block: 'center' });
  } catch (err) {
    if (seq !== state.articleSeq) return;
    ui.articleStatus.textContent = err instanceof ApiError ? err.message : 'Could not load the article.';
  }
}

function resultItem(item, snippet) {
  const a = el('a', { class: 'search-result', href: articleHref(item.article_id) }, [
    el('span', { class: 'result-title', text: item.title || item.article_id }),
    snippet ? el('span', { class: 'result-snippet' }, withBold(snippet)) : null,
  ]);
  a.citation = { article_id: item.article_id, title: item.title, quote: snippet || '',
    published: item.published, source: item.source, url: item.url };
  // The original's link sits beside the result's link, never inside it.
  return el('li', { class: 'result' }, [a, sourceMeta(item, 'result-meta')]);
}

/** Fetch the next page of the corpus and add it to what is listed (one page at a time). */
function nextPage() {
  const corpus = state.corpus;
  if (!corpus.loading) {
    const url = `${API}/articles?limit=${PAGE}&offset=${corpus.items.length}`;
    corpus.loading = getJSON(url).then((data) => {
      const page = Array.isArray(data.articles) ? data.articles : [];
      // An article added meanwhile can shift the pages: never list one twice.
      const fresh = page.filter((a) => a && a.article_id && !corpus.ids.has(a.article_id));
      for (const a of fresh) corpus.ids.add(a.article_id);
      corpus.items.push(...fresh);
      corpus.total = Number.isInteger(data.total) ? data.total : corpus.items.length;
      // A short page is the last one, whatever the total said.
      if (page.length < PAGE) corpus.total = corpus.items.length;
      return fresh;
    }).finally(() => { corpus.loading = null; });
  }
  return corpus.loading;
}

function showCorpusStatus() {
  const { items, total } = state.corpus;
  ui.status.textContent = `${plural(total, 'article')} in the collection`;
  const left = total - items.length;
  ui.more.hidden = left <= 0;
  ui.more.textContent = `Show ${Math.min(left, PAGE)} more (${items.length} of ${total} shown)`;
}

/** List the corpus: the pages loaded so far, or the first one. */
async function showCorpus() {
  ui.more.hidden = true;
  if (state.corpus.total === null) {
    ui.status.textContent = 'Loading articles…';
    try {
      await nextPage();
    } catch (err) {
      ui.status.textContent = err instanceof ApiError ? err.message : 'Could not load the article list.';
      return;
    }
  }
  if (ui.searchInput.value.trim()) return; // a search started meanwhile
  ui.list.replaceChildren(...state.corpus.items.map((a) => resultItem(a, '')));
  showCorpusStatus();
}

async function showMore() {
  ui.more.disabled = true;
  try {
    const fresh = await nextPage();
    if (ui.searchInput.value.trim()) return;
    const items = fresh.map((a) => resultItem(a, ''));
    ui.list.append(...items);
    showCorpusStatus();
    // Keyboard users continue from the first article just added.
    if (items.length) items[0].querySelector('a').focus();
  } catch (err) {
    ui.status.textContent = err instanceof ApiError ? err.message : 'Could not load more articles.';
  } finally {
    ui.more.disabled = false;
  }
}

async function runSearch() {
  const q = ui.searchInput.value.trim();
  const seq = ++state.searchSeq;
  if (!q) { ui.list.replaceChildren(); showCorpus(); return; }
  ui.more.hidden = true;
  ui.status.textContent = 'Searching…';
  try {
    const data = await getJSON(`${API}/search?q=${encodeURIComponent(q)}&k=10`);
    if (seq !== state.searchSeq) return; // a newer search has been started
    const results = Array.isArray(data.results) ? data.results : [];
    ui.status.textContent = results.length ? `${plural(results.length, 'matching passage')}` : 'No matching passages.';
    ui.list.replaceChildren(...results.map((r) => resultItem(r, r.text)));
  } catch (err) {
    if (seq === state.searchSeq) ui.status.textContent = err instanceof ApiError ? err.message : 'Search failed. Please try again.';
  }
}

export function openSources(opener) {
  openPanel('sources', opener);
  markOpen(null);
  ui.back.hidden = true;
  ui.title.textContent = 'Sources';
  if (!ui.list.children.length) runSearch();
  ui.searchInput.focus();
}

ui.close.addEventListener('click', closePanel);
ui.back.addEventListener('click', () => openSources(null));
ui.more.addEventListener('click', showMore);

let searchTimer = 0;
ui.searchForm.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(searchTimer); runSearch(); });
ui.searchInput.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 300); });
