// News QA chat front end. Plain ES2020, no dependencies.
// Security rule for this file: data from the server or the user is only ever
// inserted with textContent / createElement, never innerHTML.
'use strict';

(() => {
  const API = document.body.dataset.apiBase || '';
  const MAX_HISTORY = 10; // turns (user or assistant messages) sent with each question
  const $ = (id) => document.getElementById(id);

  const ui = {
    log: $('log'), intro: $('intro'), form: $('composer'), question: $('question'), send: $('send'),
    newConv: $('new-conversation'), sourcesBtn: $('sources-button'),
    panel: $('source-panel'), panelTitle: $('source-panel-title'), panelClose: $('panel-close'),
    panelBack: $('panel-back'), sourcesView: $('sources-view'), articleView: $('article-view'),
    searchForm: $('sources-search'), searchInput: $('sources-query'), sourcesStatus: $('sources-status'),
    sourcesList: $('sources-list'), articleStatus: $('article-status'), articleText: $('article-text'),
    articleLink: $('article-full-link'), tooltip: $('cite-tooltip'),
  };

  const state = {
    history: [],        // [{role, content, citations?}] of completed exchanges only
    busy: false,
    controller: null,   // AbortController of the request in flight
    generation: 0,      // bumped by "New conversation" so late responses are dropped
    panelOpener: null,  // element to refocus when the panel closes
    articles: new Map(),// article_id -> Promise<{article_id,title,text}>
    corpus: null,       // Promise<[{article_id,title}]>
    msgSeq: 0,
    articleSeq: 0,
  };

  // ---------- small DOM helpers ----------

  /** createElement with class, attributes and children (strings become text nodes). */
  function el(tag, props = {}, children = []) {
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

  const articleHref = (id, start, end) => {
    const base = `${API}/articles/${encodeURIComponent(id)}`;
    return Number.isInteger(start) && Number.isInteger(end) ? `${base}?start=${start}&end=${end}#quote` : base;
  };

  // Streamed tokens only auto-scroll when the reader is already near the bottom,
  // so reading an earlier answer is not interrupted by a streaming one.
  const nearBottom = () => ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  const scrollToEnd = (force) => { if (force || nearBottom()) ui.log.scrollTop = ui.log.scrollHeight; };

  /** Bring a finished message into view: all of it, or its start when it is taller than the log. */
  function reveal(msg) {
    const log = ui.log.getBoundingClientRect();
    const box = msg.getBoundingClientRect();
    if (box.height <= ui.log.clientHeight - 16) ui.log.scrollTop = ui.log.scrollHeight;
    else ui.log.scrollTop += box.top - log.top - 12;
  }

  function addMessage(role, extraClass) {
    ui.intro.hidden = true;
    const body = el('div', { class: 'bubble' });
    const msg = el('div', { class: `message ${role}${extraClass ? ' ' + extraClass : ''}`, id: `m${++state.msgSeq}` }, [
      el('span', { class: 'visually-hidden', text: role === 'user' ? 'You said:' : 'News QA answered:' }),
      body,
    ]);
    ui.log.append(msg);
    scrollToEnd(true);
    return { msg, body };
  }

  function thinkingIndicator(label = 'Searching the articles') {
    return el('div', { class: 'thinking', role: 'status' }, [
      el('span', { class: 'dots', 'aria-hidden': 'true' }, [el('span'), el('span'), el('span')]),
      el('span', { class: 'thinking-label', text: `${label}…` }),
    ]);
  }

  // ---------- answer rendering ----------

  /** Turn "text [1] more [2]" into text nodes and a.cite links for known citations. */
  function renderAnswerText(answer, citations, msgId) {
    const byN = new Map(citations.map((c) => [Number(c.n), c]));
    const p = el('div', { class: 'answer-text' });
    let last = 0;
    for (const m of answer.matchAll(/\[(\d+)\]/g)) {
      const c = byN.get(Number(m[1]));
      if (!c) continue; // an unknown marker stays as plain text
      p.append(answer.slice(last, m.index), citeLink(c, msgId));
      last = m.index + m[0].length;
    }
    p.append(answer.slice(last));
    return p;
  }

  function citeLink(c, msgId) {
    const descId = `${msgId}-cite-${c.n}`;
    const a = el('a', {
      class: 'cite', href: articleHref(c.article_id, c.start, c.end),
      'aria-label': `Source ${c.n}: ${c.title || c.article_id}`, 'aria-describedby': descId, text: `[${c.n}]`,
    });
    a.citation = c;
    // Screen readers get the quote from this hidden description (appended by
    // renderAnswer); the visible tooltip is one shared element positioned by JS.
    a.descNode = el('span', { id: descId, text: c.quote ? `“${c.quote}”` : '' });
    return a;
  }

  function sourceCard(c) {
    const card = el('a', { class: 'source-card', href: articleHref(c.article_id, c.start, c.end) }, [
      el('span', { class: 'source-n', text: `[${c.n}]` }),
      el('span', { class: 'source-title', text: c.title || c.article_id }),
      // The clamp sits on an inner span so the quote's padding never shows a cut line.
      c.quote ? el('blockquote', { class: 'source-quote' }, el('span', { text: c.quote })) : null,
    ]);
    card.citation = c;
    return card;
  }

  function metaLine(resp) {
    const t = resp.timings_ms || {};
    const item = (label, value) => el('span', { class: 'meta-item' }, [el('span', { class: 'meta-label', text: label }), ` ${value}`]);
    const parts = resp.model ? [item('Model', String(resp.model))] : [];
    // Timings the server did not report are left out rather than shown as blanks.
    for (const [key, label] of [['retrieve', 'Retrieval'], ['answer', 'Answer'], ['total', 'Total']]) {
      if (typeof t[key] === 'number') parts.push(item(label, `${Math.round(t[key])} ms`));
    }
    const meta = el('div', { class: 'meta' }, parts);
    // A follow-up is searched as a rewritten stand-alone question; showing it explains the sources.
    if (typeof resp.standalone_question === 'string' && resp.standalone_question) {
      meta.append(el('span', { class: 'standalone', text: `searched as “${resp.standalone_question}”` }));
    }
    if (resp.degraded) meta.append(el('span', { class: 'badge badge-warn', title: 'A fallback was used for this answer', text: 'degraded' }));
    // The server's field for this is not fixed yet: accept a top-level flag or per-citation flags.
    const cites = Array.isArray(resp.citations) ? resp.citations : [];
    if (resp.unverified === true || resp.verified === false || cites.some((c) => c && c.verified === false)) {
      meta.append(el('span', { class: 'badge badge-warn', title: 'Citations were not verified against the articles', text: 'unverified' }));
    }
    return meta;
  }

  /** Final rendering of an answer into an assistant message. */
  function renderAnswer(view, resp) {
    const citations = Array.isArray(resp.citations) ? resp.citations.filter((c) => c && c.article_id) : [];
    view.body.replaceChildren();
    if (resp.abstained) {
      view.msg.classList.add('abstained');
      view.body.append(el('div', { class: 'abstain-label' }, [
        el('span', { class: 'icon icon-info', 'aria-hidden': 'true', text: 'i' }), 'Not in the articles',
      ]));
    }
    const text = renderAnswerText(resp.answer, citations, view.msg.id);
    view.body.append(text);
    // One hidden description per citation, even when a marker repeats.
    const descs = new Map([...text.querySelectorAll('a.cite')].map((a) => [a.descNode.id, a.descNode]));
    if (descs.size) view.body.append(el('div', { hidden: true }, [...descs.values()]));
    if (citations.length) {
      view.body.append(el('div', { class: 'sources', role: 'list', 'aria-label': 'Sources' },
        citations.map((c) => el('div', { role: 'listitem' }, sourceCard(c)))));
    }
    view.body.append(metaLine(resp));
    reveal(view.msg);
  }

  function renderError(view, message, question) {
    view.msg.className = 'message assistant error';
    view.body.replaceChildren(
      el('p', { class: 'error-text' }, [el('span', { class: 'icon icon-error', 'aria-hidden': 'true', text: '!' }), message]),
      el('button', { type: 'button', class: 'btn btn-small retry', 'aria-label': 'Retry this question', text: 'Retry' }),
    );
    view.body.querySelector('.retry').addEventListener('click', () => {
      if (state.busy) return;
      view.msg.remove();
      ask(question, { echo: false });
    });
    reveal(view.msg);
  }

  // ---------- talking to the server ----------

  class ApiError extends Error {}

  /** A readable message for a failed HTTP response; never shows raw bodies. */
  async function httpErrorMessage(res) {
    let msg = null;
    try {
      const data = await res.json();
      if (data && data.error && typeof data.error.message === 'string') msg = data.error.message;
    } catch { /* not JSON: fall through to a generic text */ }
    const retry = Number(res.headers.get('Retry-After'));
    const secs = Math.ceil(retry);
    const wait = !Number.isFinite(retry) || retry <= 0 ? ' Please try again shortly.'
      : secs === 1 ? ' Please try again in a second.' : ` Please try again in ${secs} seconds.`;
    if (res.status === 429) return (msg || 'Too many questions at once.') + wait;
    if (res.status === 503) return (msg || 'The service is temporarily unavailable.') + wait;
    if (msg) return msg;
    return res.status >= 500 ? 'The server had a problem answering. Please try again.' : `The request was rejected (HTTP ${res.status}).`;
  }

  function validResponse(r) {
    return r && typeof r === 'object' && typeof r.answer === 'string';
  }

  /** Parse a server-sent-event stream from a fetch body, calling onEvent(name, data). */
  async function readSSE(body, onEvent) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    const dispatch = (block) => {
      let name = 'message';
      const data = [];
      for (const line of block.split(/\r\n|\r|\n/)) {
        if (line.startsWith(':')) continue; // comment / keep-alive
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      }
      if (!data.length) return;
      let parsed;
      try { parsed = JSON.parse(data.join('\n')); } catch { throw new ApiError('The server sent an unreadable stream.'); }
      return onEvent(name, parsed);
    };
    for (;;) {
      const { value, done } = await reader.read();
      buf += decoder.decode(value || new Uint8Array(), { stream: !done });
      const blocks = buf.split(/\r\n\r\n|\n\n|\r\r/);
      buf = blocks.pop();
      for (const b of blocks) {
        if (dispatch(b) === 'stop') { reader.cancel().catch(() => {}); return; }
      }
      if (done) { if (buf.trim()) dispatch(buf); return; }
    }
  }

  /** Stream handlers: show retrieval progress, then tokens, then the final rendering. */
  function streamHandlers(view) {
    let live = null;
    let final = null;
    const onEvent = (name, data) => {
      if (name === 'retrieval') {
        const n = Array.isArray(data.passages) ? data.passages.length : 0;
        const label = view.body.querySelector('.thinking-label');
        if (label && n) label.textContent = `Found ${n} passage${n === 1 ? '' : 's'}, writing the answer…`;
      } else if (name === 'token') {
        if (!live) {
          live = el('div', { class: 'answer-text streaming' });
          view.body.replaceChildren(live);
        }
        live.append(String(data.text ?? ''));
        scrollToEnd();
      } else if (name === 'final') {
        if (!validResponse(data)) throw new ApiError('The server sent an unexpected response.');
        final = data;
        return 'stop'; // nothing useful can follow the final event
      } else if (name === 'error') {
        const m = data && data.error && typeof data.error.message === 'string' ? data.error.message : null;
        throw new ApiError(m || 'Something went wrong while answering.');
      }
      // "citation" events need no work: the final event carries all citations.
    };
    return { onEvent, result: () => final };
  }

  async function ask(question, { echo = true } = {}) {
    if (state.busy) return;
    const gen = state.generation;
    if (echo) addMessage('user').body.append(el('p', { class: 'user-text', text: question }));
    const view = addMessage('assistant');
    view.body.append(thinkingIndicator());
    setBusy(true);
    state.controller = new AbortController();
    const history = state.history.slice(-MAX_HISTORY);
    try {
      const res = await fetch(`${API}/ask`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream, application/json' },
        body: JSON.stringify({ question, history, stream: true }),
        signal: state.controller.signal,
      });
      if (!res.ok) throw new ApiError(await httpErrorMessage(res));
      const type = res.headers.get('Content-Type') || '';
      let resp;
      if (type.includes('text/event-stream') && res.body) {
        const h = streamHandlers(view);
        await readSSE(res.body, (name, data) => (gen === state.generation ? h.onEvent(name, data) : 'stop'));
        resp = h.result();
        if (!resp) throw new ApiError('The answer was interrupted before it finished.');
      } else {
        try { resp = await res.json(); } catch { resp = null; }
        if (!validResponse(resp)) throw new ApiError('The server sent an unexpected response.');
      }
      if (gen !== state.generation) return;
      renderAnswer(view, resp);
      remember(question, resp);
    } catch (err) {
      if (gen !== state.generation || (err && err.name === 'AbortError')) return;
      const message = err instanceof ApiError ? err.message
        : 'Could not reach the server. Check your connection and try again.';
      renderError(view, message, question);
    } finally {
      if (gen === state.generation) setBusy(false);
    }
  }

  /** Keep the exchange for follow-up questions (assistant turns carry their citations). */
  function remember(question, resp) {
    state.history.push({ role: 'user', content: question });
    const citations = (resp.citations || []).filter((c) => c && c.article_id)
      .map((c) => ({ article_id: c.article_id, chunk_id: c.chunk_id }));
    state.history.push({ role: 'assistant', content: resp.answer, citations });
    state.history = state.history.slice(-MAX_HISTORY);
  }

  function setBusy(busy) {
    state.busy = busy;
    ui.send.disabled = busy;
    ui.log.setAttribute('aria-busy', String(busy));
    for (const b of ui.log.querySelectorAll('button.retry')) b.disabled = busy;
  }

  function newConversation() {
    state.generation += 1;
    if (state.controller) state.controller.abort();
    state.history = [];
    setBusy(false);
    hideTooltip();
    for (const m of ui.log.querySelectorAll('.message')) m.remove();
    ui.intro.hidden = false;
    ui.question.value = '';
    autoGrow();
    ui.question.focus();
  }

  // ---------- composer ----------

  function submitQuestion() {
    const q = ui.question.value.trim();
    if (!q || state.busy) return;
    ui.question.value = '';
    autoGrow();
    ask(q);
  }

  // Grow the textarea with its content up to a cap (CSSOM writes are allowed by the CSP).
  function autoGrow() {
    ui.question.style.height = 'auto';
    ui.question.style.height = `${Math.min(ui.question.scrollHeight, 200)}px`;
  }

  // ---------- citation tooltip ----------

  function showTooltip(a) {
    const c = a.citation;
    if (!c) return;
    ui.tooltip.replaceChildren(
      el('span', { class: 'tooltip-title', text: `[${c.n}] ${c.title || c.article_id}` }),
      c.quote ? el('span', { class: 'tooltip-quote', text: `“${c.quote}”` }) : null,
    );
    ui.tooltip.hidden = false;
    // Place above the marker, or below when there is no room; keep it on-screen.
    const r = a.getBoundingClientRect();
    const t = ui.tooltip.getBoundingClientRect();
    const left = Math.max(8, Math.min(r.left + r.width / 2 - t.width / 2, window.innerWidth - t.width - 8));
    const top = r.top - t.height - 8 >= 8 ? r.top - t.height - 8 : r.bottom + 8;
    ui.tooltip.style.left = `${left}px`;
    ui.tooltip.style.top = `${top}px`;
  }

  function hideTooltip() { ui.tooltip.hidden = true; }

  // ---------- side panel: sources list and article view ----------

  function openPanel(view, opener) {
    if (ui.panel.hidden) state.panelOpener = opener || document.activeElement;
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

  function closePanel() {
    if (ui.panel.hidden) return;
    markOpen(null);
    ui.panel.hidden = true;
    document.body.classList.remove('panel-open');
    setBackgroundInert(false);
    ui.sourcesBtn.setAttribute('aria-expanded', 'false');
    const back = state.panelOpener;
    state.panelOpener = null;
    (back && back.isConnected ? back : ui.question).focus();
  }

  async function getJSON(url) {
    const res = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new ApiError(await httpErrorMessage(res));
    try { return await res.json(); } catch { throw new ApiError('The server sent an unexpected response.'); }
  }

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

  /**
   * Show Markdown **bold** (the articles' headings) as bold instead of asterisks.
   * Only text nodes and <strong> elements are made, so the text stays inert.
   */
  function withBold(text) {
    const nodes = [];
    let last = 0;
    for (const m of text.matchAll(/\*\*([^*\n]+)\*\*/g)) {
      nodes.push(text.slice(last, m.index), el('strong', { text: m[1] }));
      last = m.index + m[0].length;
    }
    nodes.push(text.slice(last));
    return nodes;
  }

  /** Show an article in the panel with [start,end) (or the quote text) highlighted. */
  async function showArticle({ article_id: id, title, start, end, quote }, opener, fromSources = false) {
    openPanel('article', opener);
    markOpen(opener);
    ui.panelBack.hidden = !fromSources;
    ui.panelTitle.textContent = title || 'Article';
    ui.articleLink.href = articleHref(id, start, end);
    ui.articleText.replaceChildren();
    ui.articleStatus.textContent = 'Loading article…';
    ui.panelTitle.focus();
    const seq = ++state.articleSeq;
    try {
      const art = await fetchArticle(id);
      if (seq !== state.articleSeq || ui.articleView.hidden) return; // superseded by another click
      const text = typeof art.text === 'string' ? art.text : '';
      ui.panelTitle.textContent = art.title || title || 'Article';
      ui.articleStatus.textContent = '';
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
    a.citation = { article_id: item.article_id, title: item.title, quote: snippet || '' };
    return el('li', {}, a);
  }

  async function showCorpus() {
    ui.sourcesStatus.textContent = 'Loading articles…';
    try {
      state.corpus = state.corpus || getJSON(`${API}/articles`).then((d) => (Array.isArray(d.articles) ? d.articles : []));
      const list = await state.corpus;
      if (ui.searchInput.value.trim()) return; // a search started meanwhile
      ui.sourcesStatus.textContent = `${list.length} article${list.length === 1 ? '' : 's'} in the collection`;
      ui.sourcesList.replaceChildren(...list.map((a) => resultItem(a, '')));
    } catch (err) {
      state.corpus = null;
      ui.sourcesStatus.textContent = err instanceof ApiError ? err.message : 'Could not load the article list.';
    }
  }

  let searchSeq = 0;
  async function runSearch() {
    const q = ui.searchInput.value.trim();
    const seq = ++searchSeq;
    if (!q) { ui.sourcesList.replaceChildren(); showCorpus(); return; }
    ui.sourcesStatus.textContent = 'Searching…';
    try {
      const data = await getJSON(`${API}/search?q=${encodeURIComponent(q)}&k=10`);
      if (seq !== searchSeq) return; // a newer search has been started
      const results = Array.isArray(data.results) ? data.results : [];
      ui.sourcesStatus.textContent = results.length ? `${results.length} matching passage${results.length === 1 ? '' : 's'}` : 'No matching passages.';
      ui.sourcesList.replaceChildren(...results.map((r) => resultItem(r, r.text)));
    } catch (err) {
      if (seq === searchSeq) ui.sourcesStatus.textContent = err instanceof ApiError ? err.message : 'Search failed. Please try again.';
    }
  }

  function openSources(opener) {
    openPanel('sources', opener);
    markOpen(null);
    ui.panelBack.hidden = true;
    ui.panelTitle.textContent = 'Sources';
    if (!ui.sourcesList.children.length) runSearch();
    ui.searchInput.focus();
  }

  // ---------- wiring ----------

  ui.form.addEventListener('submit', (e) => { e.preventDefault(); submitQuestion(); });
  ui.question.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter (and Enter while composing with an IME) inserts a newline.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitQuestion(); }
  });
  ui.question.addEventListener('input', autoGrow);
  ui.newConv.addEventListener('click', newConversation);
  ui.sourcesBtn.addEventListener('click', () => {
    if (!ui.panel.hidden && !ui.sourcesView.hidden) closePanel(); else openSources(ui.sourcesBtn);
  });
  ui.panelClose.addEventListener('click', closePanel);
  ui.panelBack.addEventListener('click', () => openSources(null));

  let searchTimer = 0;
  ui.searchForm.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(searchTimer); runSearch(); });
  ui.searchInput.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 300); });

  // Citation markers, source cards and search results open the side panel
  // instead of navigating away (which would lose the in-memory conversation).
  // Modified clicks (new tab/window) keep their normal link behaviour.
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a.cite, a.source-card, a.search-result');
    if (!a || !a.citation || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    hideTooltip();
    showArticle(a.citation, a, a.classList.contains('search-result'));
  });

  const citeFrom = (e) => (e.target instanceof Element ? e.target.closest('a.cite') : null);
  ui.log.addEventListener('mouseover', (e) => { const a = citeFrom(e); if (a) showTooltip(a); });
  ui.log.addEventListener('mouseout', (e) => { if (citeFrom(e)) hideTooltip(); });
  ui.log.addEventListener('focusin', (e) => { const a = citeFrom(e); if (a) showTooltip(a); });
  ui.log.addEventListener('focusout', (e) => { if (citeFrom(e)) hideTooltip(); });
  ui.log.addEventListener('scroll', hideTooltip, { passive: true });

  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!ui.tooltip.hidden) { hideTooltip(); return; }
    closePanel();
  });

  autoGrow();
})();
