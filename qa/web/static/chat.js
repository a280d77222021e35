// News QA chat front end: the conversation, the composer and the citation tooltip.
// Plain ES2020 modules, no dependencies. Security rule for this file and every module
// it imports: data from the server or the user is only ever inserted with
// textContent / createElement, never innerHTML.

import { API, $, el } from './dom.js';
import { ApiError, httpErrorMessage, readSSE, validResponse } from './api.js';
import { Draft, renderAnswer } from './answer.js';
import { currentFilters, filtersReady } from './filters.js';
import { closePanel, openSources, showArticle, sourcesOpen } from './panel.js';

const MAX_HISTORY = 10; // turns (user or assistant messages) sent with each question

const ui = {
  log: $('log'), intro: $('intro'), form: $('composer'), question: $('question'), send: $('send'),
  newConv: $('new-conversation'), sourcesBtn: $('sources-button'), tooltip: $('cite-tooltip'),
};

const state = {
  history: [],       // [{role, content, citations?}] of completed exchanges only
  busy: false,
  controller: null,  // AbortController of the request in flight
  generation: 0,     // bumped by "New conversation" so late responses are dropped
  msgSeq: 0,
};

// ---------- the log ----------

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

function renderError(view, message, question, filters) {
  view.msg.className = 'message assistant error';
  view.body.replaceChildren(
    el('p', { class: 'error-text' }, [el('span', { class: 'icon icon-error', 'aria-hidden': 'true', text: '!' }), message]),
    el('button', { type: 'button', class: 'btn btn-small retry', 'aria-label': 'Retry this question', text: 'Retry' }),
  );
  view.body.querySelector('.retry').addEventListener('click', () => {
    if (state.busy) return;
    view.msg.remove();
    ask(question, { echo: false, filters });
  });
  reveal(view.msg);
}

// ---------- asking ----------

/** Stream handlers: retrieval progress, then the live draft, then the final answer. */
function streamHandlers(view) {
  let draft = null;
  let final = null;
  const onEvent = (name, data) => {
    if (name === 'retrieval') {
      const n = Array.isArray(data.passages) ? data.passages.length : 0;
      const label = view.body.querySelector('.thinking-label');
      if (label && n) label.textContent = `Found ${n} passage${n === 1 ? '' : 's'}, writing the answer…`;
    } else if (name === 'token') {
      if (!draft) {
        draft = new Draft(view.body);
        view.msg.classList.add('drafting');
      }
      draft.add(String(data.text ?? ''));
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
    return undefined;
  };
  // The server streams a final answer no model drafted (an abstention, the extractive
  // reader's) as tokens too: that is the answer arriving, not a draft it replaced.
  const drafted = () => Boolean(draft && draft.shown) && !(final && draft.raw === final.answer);
  return { onEvent, result: () => final, draftShown: drafted };
}

async function ask(question, { echo = true, filters = currentFilters() } = {}) {
  if (state.busy) return;
  const gen = state.generation;
  if (echo) addMessage('user').body.append(el('p', { class: 'user-text', text: question }));
  const view = addMessage('assistant');
  view.body.append(thinkingIndicator());
  setBusy(true);
  state.controller = new AbortController();
  const history = state.history.slice(-MAX_HISTORY);
  const request = { question, history, stream: true };
  if (filters) request.filters = filters;
  let draftShown = false;
  try {
    const res = await fetch(`${API}/ask`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream, application/json' },
      body: JSON.stringify(request),
      signal: state.controller.signal,
    });
    if (!res.ok) throw new ApiError(await httpErrorMessage(res));
    const type = res.headers.get('Content-Type') || '';
    let resp;
    if (type.includes('text/event-stream') && res.body) {
      const h = streamHandlers(view);
      await readSSE(res.body, (name, data) => (gen === state.generation ? h.onEvent(name, data) : 'stop'));
      resp = h.result();
      draftShown = h.draftShown();
      if (!resp) throw new ApiError('The answer was interrupted before it finished.');
    } else {
      try { resp = await res.json(); } catch { resp = null; }
      if (!validResponse(resp)) throw new ApiError('The server sent an unexpected response.');
    }
    if (gen !== state.generation) return;
    view.msg.classList.remove('drafting');
    const earlier = history.filter((t) => t.role === 'user').pop();
    renderAnswer(view, resp, { draftShown, filters, asked: question, earlier: earlier && earlier.content });
    reveal(view.msg);
    remember(question, resp);
  } catch (err) {
    if (gen !== state.generation || (err && err.name === 'AbortError')) return;
    const message = err instanceof ApiError ? err.message
      : 'Could not reach the server. Check your connection and try again.';
    renderError(view, message, question, filters);
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
  if (!q || state.busy || !filtersReady()) return;
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

// ---------- wiring ----------

ui.form.addEventListener('submit', (e) => { e.preventDefault(); submitQuestion(); });
ui.question.addEventListener('keydown', (e) => {
  // Enter sends; Shift+Enter (and Enter while composing with an IME) inserts a newline.
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitQuestion(); }
});
ui.question.addEventListener('input', autoGrow);
ui.newConv.addEventListener('click', newConversation);
ui.sourcesBtn.addEventListener('click', () => {
  if (sourcesOpen()) closePanel(); else openSources(ui.sourcesBtn);
});

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
