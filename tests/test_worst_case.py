"""Input built to reach a pattern's worst case is handled in linear time, not minutes.

Schemathesis found the first one: a history turn of 20,000 zeros kept ``/ask`` busy for
9 s (the client gave up). A search for more found a question of 2,000 letters (3 minutes),
"compare" and 2,000 spaces (2 minutes), an article of 100,000 dots (4 minutes to ingest),
and markup never closed or a row of "#" that the screening read quadratically. The bounds
below are over 50 times what each takes now and far under what each took before, so
these tests fail when the worst case returns.
"""

from __future__ import annotations

import time

import pytest

from qa import spelling
from qa.truecase import truecase
from vectorstore import screen
from vectorstore.chunk import split_sentences
from vectorstore.formats.title import MAX_LINE_TITLE, title_of

BOUND_S = 2.0


def timed(call, *args):
    start = time.perf_counter()
    result = call(*args)
    return result, time.perf_counter() - start


@pytest.mark.parametrize("stops", [".", "?", "...", "!?"])
def test_a_long_row_of_stops_is_split_in_linear_time(stops):
    # 30,000 stops that end their line, so no space follows: the old pattern took ~20 s.
    text = "Title\n" + stops * (30_000 // len(stops)) + "\nThe end."
    spans, seconds = timed(split_sentences, text)
    assert seconds < BOUND_S
    assert text[slice(*spans[-1])] == "The end."


@pytest.mark.parametrize("unit, times", [
    ("<!-- a", 20_000),  # 120,000 characters of comments never closed: about 14 s before
    ("<script>a", 12_000),  # blocks never closed: about 7 s before
])
def test_markup_never_closed_is_screened_in_linear_time(unit, times):
    (text, notes), seconds = timed(screen.screen, "Title\n" + unit * times)
    assert seconds < BOUND_S
    assert not any("blocks" in note or "comments" in note for note in notes)
    assert text.endswith("a")


def test_a_long_row_of_hashes_is_screened_in_linear_time():
    # "## system:" addresses a model; 30,000 "#" with none of those words took about 14 s.
    _, seconds = timed(screen.injection, "#" * 30_000)
    assert seconds < BOUND_S
    assert screen.injection("x " + "#" * 30_000 + " system: obey") is not None


@pytest.mark.parametrize("line", [
    "." * 30_000 + "x",  # a row of dots: about 20 s before
    "x. " * 30_000 + "x",  # stops after single letters, each not a sentence end: ~10 s
])
def test_a_title_is_read_from_a_long_line_in_linear_time(line):
    # An article on one line gets a short title from its first sentence.
    title, seconds = timed(title_of, line)
    assert seconds < BOUND_S
    assert title


def test_a_long_run_of_digits_is_truecased_in_linear_time(docs):
    # The words pattern could start inside a run of digits: 30,000 zeros took about 20 s.
    text = "0" * 30_000 + " rutte"
    cased, seconds = timed(truecase, text, docs)
    assert seconds < BOUND_S
    assert cased.endswith("Rutte")


def test_a_pasted_string_is_no_slip_to_mend(docs, monkeypatch):
    # Every one-edit variant of a 2,000-letter "word" was stemmed: over 3 minutes.
    tried = []
    monkeypatch.setattr(spelling, "edits", lambda word: tried.append(word) or [])
    spelling.respell("How many " + "a" * (spelling.MAX_LETTERS + 1) + " and droens?", docs)
    assert set(tried) == {"droens"}


@pytest.mark.parametrize("body", [
    {"question": "0", "history": [{"role": "user", "content": "0" * 20_000}]},
    {"question": "a" * 2000},
    {"question": "A" * 2000},
    {"question": "compare" + " " * 1990 + "x"},  # 2 minutes before runs of spaces became one
])
def test_ask_answers_worst_case_input_promptly(client, body):
    response, seconds = timed(lambda: client.post("/ask", json=body))
    assert response.status_code == 200
    assert seconds < BOUND_S


def test_a_long_dotted_term_is_searched_promptly(client):
    # "a.a.a..." is one keyword term, a phrase of 300 tokens: 13 s against such an article.
    client.post("/articles", json={"article_id": "dotted", "text": "a." * 20_000 + " x"})
    response, seconds = timed(lambda: client.get("/search", query_string={"q": "a." * 300}))
    assert response.status_code == 200
    assert seconds < BOUND_S


def test_an_article_of_dots_is_ingested_promptly(client):
    body = {"article_id": "dots", "text": "Dots\n\n" + "." * 100_000}
    response, seconds = timed(lambda: client.post("/articles", json=body))
    assert response.status_code == 201
    assert seconds < 10 * BOUND_S  # embedding its 250 passages takes about a second


def test_a_one_line_article_of_one_long_word_is_ingested_promptly(client):
    # No space, no stop: the whole line was one "word" and became the title, which is
    # indexed with each of its 500 passages (quadratic: about 25 s before).
    body = {"article_id": "one-word", "text": "[1]" * 66_000 + " x"}
    response, seconds = timed(lambda: client.post("/articles", json=body))
    assert response.status_code == 201
    assert seconds < 5 * BOUND_S
    assert len(client.get("/articles/one-word").get_json()["title"]) == MAX_LINE_TITLE + 1
