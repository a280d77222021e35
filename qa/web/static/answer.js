// An answer in the log: the model's live draft, then the verified answer in its place,
// with citation markers, source cards, a note when the two differ, and the meta line.

import { articleHref, el, formatDate, formatMs, sourceMeta } from './dom.js';

// Why an answer degraded to the extractive one, in the reader's words (the server's
// `fallback` codes); anything else gets the generic sentence.
const FALLBACK_CAUSES = {
  model_timeout: 'The model took too long',
  model_busy: 'The model was busy with other questions',
  model_refused: 'The model gave no answer, though the articles seem to have one',
  unverified: "The articles did not support the model's answer",
  model_garbage: 'The model wrote something that is not an answer',
};

/**
 * A date filter in words: "published Jan 1, 2024 – Jun 30, 2024" (without "published"
 * when `short`), or null when none is set.
 */
export function describeFilters(filters, { short = false } = {}) {
  const after = formatDate(filters && filters.published_after);
  const before = formatDate(filters && filters.published_before);
  const range = after && before ? `${after} – ${before}` : after ? `since ${after}` : before ? `until ${before}` : null;
  return range && !short ? `published ${range}` : range;
}

/**
 * What the user sees while the model writes: its raw text, marked as a draft being
 * checked. The text is aria-hidden so screen readers do not read it token by token;
 * they get the label once, then the verified answer that replaces it.
 */
export class Draft {
  constructor(body) {
    this.raw = '';
    this.text = el('div', { class: 'draft-text', 'aria-hidden': 'true' });
    this.node = el('div', { class: 'draft' }, [
      el('p', { class: 'draft-label' }, [
        el('span', { class: 'draft-badge', text: 'Draft' }),
        el('span', { class: 'draft-status', text: 'checking it against the articles…' }),
      ]),
      this.text,
    ]);
    body.replaceChildren(this.node);
  }

  add(piece) {
    this.raw += piece;
    this.text.textContent = readableDraft(this.raw);
  }

  get shown() { return readableDraft(this.raw).trim() !== ''; }
}

/**
 * The draft without its answer prefix and [n] markers: they number the sentences the
 * model read, not citations, and nothing in a draft can be cited yet. A marker still
 * being written ("[1") is left out too.
 */
export function readableDraft(raw) {
  return raw.replace(/^\s*Answer:\s*/, '')
    .replace(/\s*\[\d+(?:\s*[,;]\s*\d+)*\]/g, '')
    .replace(/\s*\[[\d,;\s]*$/, '');
}

/** What verification found wrong with a withdrawn draft, in the user's words. */
function withdrawnBecause(v) {
  const invented = v.invented_numbers || [];
  if (invented.length) return `no sentence the model read states ${invented.join(', ')}`;
  if (v.restated) return 'it only repeated the question';
  if (v.misattributed) return 'the sentence it used is about someone or something else';
  if (v.miscounted) return 'it counted something other than what was asked';
  return "the articles don't clearly answer this";
}

/** Why the verified answer differs from the draft, or null when it needs no word. */
export function changeNote(resp, draftShown) {
  if (resp.degraded) {
    const cause = FALLBACK_CAUSES[resp.fallback] || 'The model could not give a checked answer';
    // The extractive reader may abstain too: then nothing was taken from the articles.
    return resp.abstained
      ? `${cause}, and no sentence in the articles answers the question either.`
      : `${cause}, so this answer is taken straight from the articles.`;
  }
  if (resp.abstained) {
    return draftShown ? `The draft was withdrawn: ${withdrawnBecause(resp.verification || {})}.` : null;
  }
  const dropped = resp.verification && resp.verification.dropped_sentences;
  if (Number.isInteger(dropped) && dropped > 0) {
    return dropped === 1
      ? "One sentence of the draft was removed: the articles don't support it."
      : `${dropped} sentences of the draft were removed: the articles don't support them.`;
  }
  return null;
}

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

/** A source card: the link that opens the passage, then date, outlet and original. */
function sourceCard(c) {
  const link = el('a', { class: 'source-card', href: articleHref(c.article_id, c.start, c.end) }, [
    el('span', { class: 'source-n', text: `[${c.n}]` }),
    el('span', { class: 'source-title', text: c.title || c.article_id }),
    // The clamp sits on an inner span so the quote's padding never shows a cut line.
    c.quote ? el('blockquote', { class: 'source-quote' }, el('span', { text: c.quote })) : null,
  ]);
  link.citation = c;
  return el('div', { class: 'source', role: 'listitem' }, [link, sourceMeta(c)]);
}

/**
 * What was searched for, when not what was typed: it explains the sources. A follow-up
 * the server read with the earlier question's words ("How old is he? (scored rovers)") is
 * said as that, naming the earlier question, not as the keywords it borrowed.
 */
export function searchedAs(standalone, asked, earlier) {
  if (typeof standalone !== 'string' || !standalone) return '';
  const typed = typeof asked === 'string' ? asked.trim() : '';
  const borrowed = typed && standalone.toLowerCase().startsWith(`${typed.toLowerCase()} (`)
    && standalone.endsWith(')');
  if (!borrowed) return `searched as “${standalone}”`;
  if (typeof earlier === 'string' && earlier.trim()) return `read as a follow-up to “${earlier.trim()}”`;
  return `searched with words from earlier: ${standalone.slice(typed.length + 2, -1)}`;
}

function metaLine(resp, filters, asked, earlier) {
  const t = resp.timings_ms || {};
  const item = (label, value, cls = '') => el('span', { class: `meta-item${cls}` }, [
    el('span', { class: 'meta-label', text: label }), ` ${value}`,
  ]);
  const parts = [];
  if (resp.model) {
    const instead = resp.degraded && resp.requested_model ? ` (instead of ${resp.requested_model})` : '';
    parts.push(item('Model', `${resp.model}${instead}`, ' meta-model'));
  }
  // Timings the server did not report are left out rather than shown as blanks.
  const timings = [['first_token', 'First token', ''], ['retrieve', 'Retrieval', ' meta-detail'],
    ['answer', 'Answer', ' meta-detail'], ['total', 'Total', '']];
  for (const [key, label, cls] of timings) {
    if (typeof t[key] === 'number') parts.push(item(label, formatMs(t[key]), cls));
  }
  const filtered = describeFilters(filters);
  if (filtered) parts.push(item('Filter', filtered, ' meta-filter'));
  const meta = el('div', { class: 'meta' }, parts);
  const searched = searchedAs(resp.standalone_question, asked, earlier);
  if (searched) meta.append(el('span', { class: 'standalone', text: searched }));
  if (resp.degraded) meta.append(el('span', { class: 'badge badge-warn', title: 'A fallback was used for this answer', text: 'degraded' }));
  const cites = Array.isArray(resp.citations) ? resp.citations : [];
  if (resp.verified === false || cites.some((c) => c && c.verified === false)) {
    meta.append(el('span', { class: 'badge badge-warn', title: 'Some citations were not verified against the articles', text: 'unverified' }));
  }
  return meta;
}

/**
 * Render the final answer into an assistant message, replacing the draft (or the
 * thinking indicator) in place. `draftShown` says whether the user saw a draft;
 * `filters` are the ones the question was sent with.
 */
export function renderAnswer(view, resp, { draftShown = false, filters = null, asked = '', earlier = '' } = {}) {
  const citations = Array.isArray(resp.citations) ? resp.citations.filter((c) => c && c.article_id) : [];
  const parts = [];
  view.msg.classList.toggle('abstained', Boolean(resp.abstained));
  if (resp.abstained) {
    parts.push(el('div', { class: 'abstain-label' }, [
      el('span', { class: 'icon icon-info', 'aria-hidden': 'true', text: 'i' }), 'Not in the articles',
    ]));
  }
  const note = changeNote(resp, draftShown);
  if (note) parts.push(el('p', { class: `answer-note${resp.degraded ? ' is-warn' : ''}` }, [el('span', { class: 'note-mark', 'aria-hidden': 'true', text: '↻' }), note]));
  const text = renderAnswerText(resp.answer, citations, view.msg.id);
  if (draftShown) text.classList.add('settled'); // a short fade marks the swap
  parts.push(text);
  // One hidden description per citation, even when a marker repeats.
  const descs = new Map([...text.querySelectorAll('a.cite')].map((a) => [a.descNode.id, a.descNode]));
  if (descs.size) parts.push(el('div', { hidden: true }, [...descs.values()]));
  if (citations.length) {
    parts.push(el('div', { class: 'sources', role: 'list', 'aria-label': 'Sources' }, citations.map(sourceCard)));
  }
  parts.push(metaLine(resp, filters, asked, earlier));
  view.body.replaceChildren(...parts);
}
