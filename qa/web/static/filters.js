// The composer's "Filters" disclosure: an optional range of publication dates sent with
// every question as `filters: {published_after, published_before}` (ISO dates, inclusive).

import { $ } from './dom.js';
import { describeFilters } from './answer.js';

const ui = {
  toggle: $('filters-toggle'), panel: $('filters'), summary: $('filters-summary'),
  after: $('published-after'), before: $('published-before'), reset: $('filters-reset'),
  error: $('filters-error'),
};

/** The filters to send, or null when none is set. */
export function currentFilters() {
  const filters = {};
  if (ui.after.value) filters.published_after = ui.after.value;
  if (ui.before.value) filters.published_before = ui.before.value;
  return Object.keys(filters).length ? filters : null;
}

/**
 * Check the range before a question is sent; on a problem, open the filters, say what
 * is wrong and return false. An input the browser cannot read as a date is one too.
 */
export function filtersReady() {
  let problem = null;
  if (ui.after.validity.badInput || ui.before.validity.badInput) problem = 'Enter dates as complete days.';
  else if (ui.after.value && ui.before.value && ui.after.value > ui.before.value) {
    problem = 'The “From” date is after the “To” date.';
  }
  showError(problem);
  if (problem) {
    setOpen(true);
    ui.after.focus();
  }
  return !problem;
}

function showError(message) {
  ui.error.textContent = message || '';
  ui.error.hidden = !message;
  for (const input of [ui.after, ui.before]) input.setAttribute('aria-invalid', String(Boolean(message)));
}

function setOpen(open) {
  ui.panel.hidden = !open;
  ui.toggle.setAttribute('aria-expanded', String(open));
}

/** Reflect the current range on the toggle, so a closed disclosure still shows it. */
function update() {
  const text = describeFilters(currentFilters(), { short: true });
  ui.summary.textContent = text ? `: ${text}` : '';
  ui.toggle.classList.toggle('is-active', Boolean(text));
  // Each bound keeps the date picker from offering an inverted range.
  ui.before.min = ui.after.value;
  ui.after.max = ui.before.value;
  if (!ui.error.hidden) showError(null);
}

export function resetFilters() {
  ui.after.value = '';
  ui.before.value = '';
  update();
}

ui.toggle.addEventListener('click', () => {
  const open = ui.panel.hidden;
  setOpen(open);
  if (open) ui.after.focus();
});
for (const input of [ui.after, ui.before]) input.addEventListener('input', update);
ui.reset.addEventListener('click', () => { resetFilters(); ui.after.focus(); });
ui.panel.addEventListener('keydown', (e) => {
  // Escape closes the filters (before the page's own Escape handling closes a panel).
  if (e.key !== 'Escape') return;
  e.stopPropagation();
  setOpen(false);
  ui.toggle.focus();
});
update();
