"""The chat box with a generative model, in a real headless Chromium: the live draft and the
verified answer that replaces it, the note when they differ, the meta line, dated and
sourced cards, the date filters and the paged sources view.

A scripted OpenAI-compatible server (tests/openai_stub.py) writes the drafts, slowly enough
to watch; the app around it is real (HTTP, Chroma, the pipeline's verification) with the
fake embedder. One test runs the real default local model and the real MiniLM.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from app import create_app
from qa.abstain import Abstainer
from qa.settings import Settings
from tests.browser_support import (
    PHONE,
    LiveServer,
    Tabs,
    ask,
    ask_request,
    chromium,
    screenshot,
    seen,
    sse,
    wait_reply,
    watch_answers,
)
from tests.conftest import SEEDS
from tests.fakes import FakeEmbedder
from tests.openai_stub import Reply, first_sentence, passages, running
from tests.test_generate import ANSWERS_UNLESS_REFUSED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DRONES = "How many drones can Ukraine produce each year?"
UNSUPPORTED = "Cheese is blue, say the bakers of Kyiv [2]. "
MODEL = "openai:stub-model"
QUILLON = {
    "article_id": "zz-quillon-port",
    "title": "Quillon port record",
    "text": "Quillon port record\nThe Quillon harbour authority said 412 cargo ships docked "
            "at Quillon in 2023, a record for the port.\n",
    "published": "2024-03-05",
    "source": "Quillon Gazette",
    "url": "https://news.example.org/quillon/ships?id=7",
}
QUILLON_QUESTION = "How many cargo ships docked at Quillon in 2023?"


def answering(pattern: str = "", before: str = "", delay: float = 0.0):
    """A responder that answers with the evidence sentence holding ``pattern`` (else [1]),
    after ``before``, one word every ``delay`` seconds."""
    def respond(body: dict) -> Reply:
        found = passages(body)
        n = next((n for n, text in found.items() if pattern and pattern in text), 1)
        return Reply(f"{before}{first_sentence(found[n])} [{n}]", chunk_delay=delay)
    return respond


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def stub():
    yield from running()


@pytest.fixture(scope="module")
def stub_server(tmp_path_factory, stub):
    """The app answering with the scripted model, over real HTTP."""
    root = tmp_path_factory.mktemp("stub-browser")
    shutil.copytree(SEEDS, root / "seeds")
    app = create_app(
        Settings(data_dir=root / "data", seeds_dir=root / "seeds", answer_model="extractive"),
        embedder_factory=FakeEmbedder, answer_model=MODEL, openai_base_url=stub.url,
        model_timeout_s=15.0,
    )
    service = app.extensions["qa"]
    service.reader.abstainer = ANSWERS_UNLESS_REFUSED
    service.ensure_seeded()
    with LiveServer(app) as live:
        live.service = service
        yield live
    service.close()


@pytest.fixture
def open_tab(browser, stub_server, stub):
    stub.responder = answering()
    tabs = Tabs(browser, stub_server.url)
    yield tabs.open
    tabs.check()


@pytest.fixture
def quillon(stub_server, browser):
    """An article with a date, an outlet and an address, added through the API."""
    context = browser.new_context(base_url=stub_server.url)
    created = context.request.post("/articles", data=QUILLON)
    assert created.status in (200, 201), created.text()
    yield QUILLON
    assert context.request.delete(f"/articles/{QUILLON['article_id']}").ok
    context.close()


def with_metadata(route, _request=None) -> None:
    """Answer through the real server, then give the article's citations the date, outlet
    and address it was added with. The server stores and returns none of them yet (the
    contract says every citation carries them); once it does, this changes nothing."""
    sent = json.loads(route.request.post_data)
    real = route.fetch(post_data=json.dumps({**sent, "stream": False}),
                       headers={**route.request.headers, "accept": "application/json"}).json()
    for citation in real["citations"]:
        if citation["article_id"] == QUILLON["article_id"]:
            for key in ("published", "source", "url"):
                citation[key] = citation.get(key) or QUILLON[key]
    route.fulfill(status=200, json=real)


def animation(page, selector: str, pseudo: str | None = None) -> str:
    return page.evaluate(
        "([s, p]) => getComputedStyle(document.querySelector(s), p).animationName",
        [selector, pseudo],
    )


def separators(meta) -> list[str]:
    """The dot drawn after each part of a date · outlet · link line."""
    return meta.evaluate(
        "m => [...m.children].map(c => getComputedStyle(c, '::after').content)")


def outside_aria_hidden(locator) -> bool:
    return locator.evaluate("n => n.closest('[aria-hidden=\"true\"]') === null")


# -- the draft and the verified answer --------------------------------------------------------


def test_the_draft_streams_live_then_the_verified_answer_replaces_it(open_tab, stub):
    # The model writes a sentence no article supports, then one that is supported.
    stub.responder = answering(before=UNSUPPORTED, delay=0.08)
    page = open_tab().page
    watch_answers(page)
    request = ask_request(page, DRONES)
    message = page.locator(".message.assistant").first
    draft = message.locator(".draft")
    expect(draft.locator(".draft-text")).to_contain_text("Cheese is blue")

    # While it is written: marked as a draft, greyed, nothing citable, no [n] numbers.
    expect(message).to_have_class(re.compile(r"\bdrafting\b"))
    expect(draft.locator(".draft-badge")).to_have_text("Draft")
    expect(draft.locator(".draft-status")).to_contain_text("checking it against the articles")
    expect(draft.locator("a")).to_have_count(0)
    expect(draft.locator(".draft-text")).not_to_contain_text("[2]")
    # Screen readers are not read every token: the text is hidden from them, the label is not.
    expect(draft.locator(".draft-text")).to_have_attribute("aria-hidden", "true")
    assert outside_aria_hidden(draft.locator(".draft-label"))
    assert animation(page, ".draft-text", "::after") == "blink"
    screenshot(page, "desktop-draft")

    reply = wait_reply(page, 0)
    assert request.post_data_json["stream"] is True and "filters" not in request.post_data_json
    # In place: the same message, the draft gone, the verified answer with its citation.
    expect(reply).not_to_have_class(re.compile(r"\bdrafting\b"))
    expect(reply.locator(".draft")).to_have_count(0)
    answer = reply.locator(".answer-text")
    expect(answer).to_contain_text("8 million drones")
    expect(answer).not_to_contain_text("Cheese")
    expect(reply.locator("a.cite")).to_have_text(["[1]"])
    expect(reply.locator(".source-card")).to_have_count(1)
    expect(reply.locator(".answer-note")).to_contain_text(
        "One sentence of the draft was removed: the articles don't support it.")
    assert outside_aria_hidden(answer)  # the log announces the verified answer
    assert animation(page, ".message.assistant .answer-text") == "settle"

    meta = reply.locator(".meta")
    expect(meta.locator(".meta-model")).to_have_text(f"Model {MODEL}")
    for shown in (r"First token \d+(\.\d)? m?s", r"Retrieval \d", r"Answer \d", r"Total \d"):
        expect(meta).to_contain_text(re.compile(shown))
    expect(meta.locator(".badge")).to_have_count(0)

    states = seen(page)
    kinds = [s["kind"] for s in states]
    assert "draft" in kinds and kinds.index("draft") < kinds.index("final"), kinds
    assert "Cheese is blue" in states[kinds.index("draft")]["text"]
    assert all(s["msg"] == states[0]["msg"] for s in states)  # replaced in place
    screenshot(page, "desktop-verified-after-draft")


@pytest.mark.parametrize("case, responder, timeout, note", [
    ("timeout", lambda body: Reply("word " * 200, chunk_delay=0.05), 1.5,
     "The model took too long, so this answer is taken straight from the articles."),
    # Only a sentence the articles do not support: nothing verified is left.
    ("unverified", lambda body: Reply("Cheese is blue, say the bakers of Lisbon [1].",
                                      chunk_delay=0.03), 15.0,
     "The articles did not support the model's answer, so this answer is taken straight "
     "from the articles."),
])
def test_a_degraded_answer_replaces_the_draft_and_says_why(
        open_tab, stub, stub_server, monkeypatch, case, responder, timeout, note):
    stub.responder = responder
    pipeline = stub_server.service.pipeline
    monkeypatch.setattr(pipeline, "settings", pipeline.settings.replace(model_timeout_s=timeout))
    page = open_tab().page
    watch_answers(page)
    reply = ask(page, DRONES)

    expect(reply.locator(".draft")).to_have_count(0)
    expect(reply.locator(".answer-note")).to_contain_text(note)
    expect(reply.locator(".answer-text")).to_contain_text("8 million drones")
    expect(reply.locator(".answer-text")).not_to_contain_text(re.compile("Cheese|word word"))
    expect(reply.locator("a.cite")).not_to_have_count(0)
    meta = reply.locator(".meta")
    expect(meta.locator(".meta-model")).to_have_text(f"Model extractive (instead of {MODEL})")
    expect(meta.locator(".badge")).to_have_text(["degraded"])

    kinds = [s["kind"] for s in seen(page)]
    assert kinds.index("draft") < kinds.index("final"), kinds
    screenshot(page, f"desktop-degraded-{case}")


def test_a_degraded_abstention_does_not_claim_to_quote_the_articles(open_tab, stub):
    # The model's answer is unsupported and no sentence answers either: an honest "don't say".
    stub.responder = lambda body: Reply("Cheese is blue, say the bakers of Lisbon [1].",
                                        chunk_delay=0.03)
    page = open_tab().page
    reply = ask(page, "What colour is the NATO secretary general's car?")
    expect(reply).to_have_class(re.compile(r"\babstained\b"))
    expect(reply.locator(".answer-note")).to_contain_text(
        "The articles did not support the model's answer, and no sentence in the articles "
        "answers the question either.")
    expect(reply.locator(".answer-note")).not_to_contain_text("taken straight")
    expect(reply.locator(".answer-text")).to_contain_text("The articles don't say")
    expect(reply.locator(".answer-text")).not_to_contain_text("Cheese")
    expect(reply.locator(".meta .badge")).to_have_text(["degraded"])


def test_an_answer_no_model_drafted_is_not_called_a_withdrawn_draft(open_tab, stub):
    # No article states 2019: the service abstains before any model reads, and the final
    # answer is streamed as it is. Nothing was drafted, so nothing was withdrawn.
    stub.responder = answering(delay=0.03)
    page = open_tab().page
    reply = ask(page, "How many drones could Ukraine produce in 2019?")
    expect(reply).to_have_class(re.compile(r"\babstained\b"))
    expect(reply.locator(".answer-text")).to_contain_text(
        "none of the articles found mentions 2019")
    expect(reply.locator(".answer-note")).to_have_count(0)


def test_a_withdrawn_draft_says_so(open_tab, stub, stub_server, monkeypatch):
    stub.responder = answering(delay=0.03)
    # The abstainer judges the articles do not answer, whatever the model wrote.
    monkeypatch.setattr(stub_server.service.reader, "abstainer", Abstainer.of(bias=-10))
    page = open_tab().page
    watch_answers(page)
    reply = ask(page, DRONES)
    expect(reply).to_have_class(re.compile(r"\babstained\b"))
    expect(reply.locator(".abstain-label")).to_contain_text("Not in the articles")
    expect(reply.locator(".answer-note")).to_contain_text(
        "The draft was withdrawn: the articles don't clearly answer this.")
    expect(reply.locator(".draft")).to_have_count(0)
    expect(reply.locator(".meta-model")).to_have_text(f"Model {MODEL}")
    kinds = [s["kind"] for s in seen(page)]
    assert kinds.index("draft") < kinds.index("final"), kinds



@pytest.mark.parametrize("draft, why", [
    ("Ukraine can produce 37 drones a year [1].", "no sentence the model read states 37"),
    ("Ukraine can produce drones each year [1].", "it only repeated the question"),
])
def test_a_withdrawn_draft_says_what_was_wrong_with_it(open_tab, stub, stub_server,
                                                       monkeypatch, draft, why):
    stub.responder = lambda body: Reply(draft, chunk_delay=0.03)
    # The abstainer would let either through: verification withdraws them.
    monkeypatch.setattr(stub_server.service.reader, "abstainer", Abstainer.of(bias=10))
    reply = ask(open_tab().page, DRONES)
    expect(reply).to_have_class(re.compile(r"\babstained\b"))
    expect(reply.locator(".answer-note")).to_contain_text(f"The draft was withdrawn: {why}.")


def test_a_draft_counting_something_else_says_so(open_tab, stub, stub_server, monkeypatch):
    def respond(body):
        n = next(n for n, text in passages(body).items() if "70 projects" in text)
        return Reply(f"NATO members are working on over 70 projects [{n}].", chunk_delay=0.03)
    stub.responder = respond
    monkeypatch.setattr(stub_server.service.reader, "abstainer", Abstainer.of(bias=10))
    reply = ask(open_tab().page, "How many tanks have NATO members sent to Ukraine?")
    expect(reply).to_have_class(re.compile(r"\babstained\b"))
    expect(reply.locator(".answer-note")).to_contain_text(
        "The draft was withdrawn: it counted something other than what was asked.")


def test_reduced_motion_stills_the_draft_and_the_swap(open_tab, stub):
    stub.responder = answering(before=UNSUPPORTED, delay=0.08)
    page = open_tab(reduced_motion="reduce").page
    page.locator("#question").fill(DRONES)
    page.locator("#question").press("Enter")
    expect(page.locator(".draft-text")).to_contain_text("Cheese")
    assert animation(page, ".draft-text", "::after") == "none"  # no blinking caret
    assert animation(page, ".draft-status") == "none"
    reply = wait_reply(page, 0)
    expect(reply.locator(".answer-text")).to_contain_text("8 million")
    assert animation(page, ".message.assistant .answer-text") == "none"  # no fade


# -- dated, sourced cards ---------------------------------------------------------------------


def test_cards_show_date_outlet_and_a_link_to_the_original(open_tab, stub, quillon):
    stub.responder = answering("Quillon")
    tab = open_tab()
    page = tab.page
    page.route("**/ask", with_metadata)
    reply = ask(page, QUILLON_QUESTION)
    card = reply.locator(".source").filter(has_text=quillon["title"])
    expect(card).to_have_count(1)
    when = card.locator(".source-meta time")
    expect(when).to_have_attribute("datetime", "2024-03-05")
    expect(when).to_have_text("Mar 5, 2024")
    expect(card.locator(".meta-outlet")).to_have_text("Quillon Gazette")
    original = card.locator("a.original-link")
    expect(original).to_have_attribute("href", quillon["url"])
    expect(original).to_have_attribute("target", "_blank")
    expect(original).to_have_attribute("rel", "noopener noreferrer")
    expect(original).to_have_text("news.example.org ↗")
    expect(original).to_have_accessible_name(
        "Original article on news.example.org (opens in a new tab)")
    assert separators(card.locator(".source-meta")) == ['"·"', '"·"', "none"]
    screenshot(page, "desktop-card-metadata")

    # The article panel shows them too.
    card.locator("a.source-card").click()
    panel_meta = page.locator("#article-meta")
    expect(panel_meta).to_be_visible()
    expect(panel_meta.locator("time")).to_have_attribute("datetime", "2024-03-05")
    expect(panel_meta).to_contain_text("Quillon Gazette")
    expect(panel_meta.locator("a.original-link")).to_have_attribute("href", quillon["url"])
    expect(page.locator("#source-panel mark")).to_contain_text("412 cargo ships")
    screenshot(page, "desktop-panel-metadata")
    page.locator("#panel-close").click()

    # An article without them: no date, no outlet, no link, no stray separator.
    page.unroute("**/ask")
    stub.responder = answering()
    plain = ask(page, DRONES)
    expect(plain.locator(".source-card")).not_to_have_count(0)
    expect(plain.locator(".source-meta")).to_have_count(0)
    expect(plain.locator("time, a.original-link")).to_have_count(0)
    plain.locator("a.source-card").first.click()
    expect(page.locator("#source-panel mark")).to_be_visible()
    expect(page.locator("#article-meta")).to_be_hidden()


def test_odd_or_hostile_metadata_shows_nothing_odd(open_tab):
    tab = open_tab(bypass_csp=True)  # the rendering itself must be safe
    page = tab.page
    base = {"title": "Port news", "start": 0, "end": 11, "score": 0.5, "quote": "Port news x"}
    final = {
        "answer": "One [1]. Two [2].", "abstained": False, "model": MODEL,
        "timings_ms": {"retrieve": 1, "answer": 2, "total": 3},
        "citations": [
            {**base, "n": 1, "article_id": "a1", "chunk_id": "a1:0", "published": "soon",
             "source": '<img src="/xss-probe-source" onerror="window.xssFired=1">',
             "url": "javascript:window.xssFired=2"},
            {**base, "n": 2, "article_id": "a2", "chunk_id": "a2:0", "published": None,
             "source": "  ", "url": "not a url"},
        ],
    }
    page.route("**/ask", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"},
        body=sse("retrieval", {"passages": []}) + sse("final", final)))
    reply = ask(page, "Anything odd?")
    cards = reply.locator(".source")
    expect(cards).to_have_count(2)
    # The outlet is shown as text; an unreadable date and a non-http address are not shown.
    expect(cards.nth(0).locator(".source-meta")).to_have_text(
        '<img src="/xss-probe-source" onerror="window.xssFired=1">')
    expect(reply.locator("time, a.original-link, .source-meta img")).to_have_count(0)
    assert separators(cards.nth(0).locator(".source-meta")) == ["none"]  # no stray dot
    expect(cards.nth(1).locator(".source-meta")).to_have_count(0)
    assert page.evaluate("() => window.xssFired") is None
    assert not [u for u in tab.requests if "xss-probe" in u]


# -- the date filters -------------------------------------------------------------------------


def test_date_filters_are_sent_shown_and_reset(open_tab):
    tab = open_tab()
    page = tab.page
    toggle = page.locator("#filters-toggle")
    panel = page.locator("#filters")
    expect(toggle).to_have_text("Filters")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()

    toggle.click()
    expect(panel).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#published-after")).to_be_focused()
    page.get_by_label("From", exact=True).fill("2024-01-01")
    page.get_by_label("To", exact=True).fill("2024-06-30")
    expect(toggle).to_have_text("Filters: Jan 1, 2024 – Jun 30, 2024")
    screenshot(page, "desktop-filters")

    request = ask_request(page, DRONES)
    reply = wait_reply(page, 0)
    assert request.post_data_json["filters"] == {
        "published_after": "2024-01-01", "published_before": "2024-06-30"}
    assert request.response().status == 200  # the server took them
    expect(reply.locator(".meta-filter")).to_have_text(
        "Filter published Jan 1, 2024 – Jun 30, 2024")

    # An inverted range is refused on the page, with the reason; nothing is sent.
    asked = sum(u.endswith("/ask") for u in tab.requests)
    page.get_by_label("From", exact=True).fill("2024-07-01")
    page.locator("#question").fill(DRONES)
    page.locator("#question").press("Enter")
    expect(page.locator("#filters-error")).to_have_text("The “From” date is after the “To” date.")
    expect(page.locator("#published-after")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#question")).to_have_value(DRONES)
    assert sum(u.endswith("/ask") for u in tab.requests) == asked

    # One bound alone.
    page.get_by_label("To", exact=True).fill("")
    expect(page.locator("#filters-error")).to_be_hidden()
    expect(toggle).to_have_text("Filters: since Jul 1, 2024")
    request = ask_request(page, DRONES)
    reply = wait_reply(page, 1)
    assert request.post_data_json["filters"] == {"published_after": "2024-07-01"}
    expect(reply.locator(".meta-filter")).to_have_text("Filter published since Jul 1, 2024")

    # Clear: nothing is sent and nothing is shown.
    page.locator("#filters-reset").click()
    expect(toggle).to_have_text("Filters")
    expect(page.get_by_label("From", exact=True)).to_have_value("")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()
    request = ask_request(page, DRONES)
    reply = wait_reply(page, 2)
    assert "filters" not in request.post_data_json
    expect(reply.locator(".meta-filter")).to_have_count(0)


# -- the sources view pages through the corpus ------------------------------------------------

CORPUS_SIZE = 120


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    """A corpus of more articles than one page of the sources view."""
    root = tmp_path_factory.mktemp("big-corpus")
    corpus = root / "corpus"
    corpus.mkdir()
    for i in range(1, CORPUS_SIZE + 1):
        (corpus / f"harbour-{i:03d}.txt").write_text(
            f"Harbour report {i:03d}\n\nThe port of Harbourtown handled {i * 7} ships in week "
            f"{i}, its harbour master said on the radio.\n")
    app = create_app(
        Settings(data_dir=root / "data", seeds_dir=corpus, answer_model="extractive"),
        embedder_factory=FakeEmbedder,
    )
    service = app.extensions["qa"]
    service.ensure_seeded()
    with LiveServer(app) as live:
        yield live
    service.close()


def test_the_sources_view_pages_through_the_whole_corpus(browser, big_server):
    tabs = Tabs(browser, big_server.url)
    tab = tabs.open()
    page = tab.page
    everything = page.request.get("/articles?limit=1000").json()
    assert everything["total"] == CORPUS_SIZE
    titles = [a["title"] for a in everything["articles"]]

    page.locator("#sources-button").click()
    results = page.locator("#sources-list .search-result")
    status = page.locator("#sources-status")
    more = page.locator("#sources-more")
    expect(status).to_have_text(f"{CORPUS_SIZE} articles in the collection")
    expect(results).to_have_count(50)
    expect(more).to_have_text(f"Show 50 more (50 of {CORPUS_SIZE} shown)")
    screenshot(page, "desktop-sources-paged")

    more.click()
    expect(results).to_have_count(100)
    expect(results.nth(50)).to_be_focused()  # keyboard users go on from the new ones
    expect(more).to_have_text(f"Show 20 more (100 of {CORPUS_SIZE} shown)")
    more.click()
    expect(results).to_have_count(CORPUS_SIZE)
    expect(more).to_be_hidden()
    expect(results.locator(".result-title")).to_have_text(titles)  # in order, none twice
    pages = [u.split("?", 1)[1] for u in tab.requests if "/articles?" in u]
    assert pages == ["limit=50&offset=0", "limit=50&offset=50", "limit=50&offset=100"]

    # Searching stays as it was, and clearing it brings the listed pages back.
    page.locator("#sources-query").fill("Harbourtown week 7")
    page.locator("#sources-query").press("Enter")
    expect(status).to_contain_text("matching passage")
    expect(more).to_be_hidden()
    assert 1 <= results.count() <= 10
    page.locator("#sources-query").fill("")
    expect(results).to_have_count(CORPUS_SIZE)
    expect(status).to_have_text(f"{CORPUS_SIZE} articles in the collection")
    assert len([u for u in tab.requests if "/articles?" in u]) == 3  # nothing fetched again
    tabs.check()


# -- on a phone ---------------------------------------------------------------------------


def test_phone_filters_draft_and_sourced_card(open_tab, stub, quillon):
    tab = open_tab(PHONE, has_touch=True, is_mobile=True)
    page = tab.page
    page.locator("#filters-toggle").tap()
    page.get_by_label("From", exact=True).fill("2023-01-01")
    screenshot(page, "phone-filters")
    page.locator("#filters-toggle").tap()  # close it again

    stub.responder = answering(before=UNSUPPORTED, delay=0.08)
    page.locator("#question").fill(DRONES)
    page.locator("#question").press("Enter")
    expect(page.locator(".draft-text")).to_contain_text("Cheese")
    screenshot(page, "phone-draft")
    wait_reply(page, 0)

    stub.responder = answering("Quillon")
    page.route("**/ask", with_metadata)
    reply = ask(page, QUILLON_QUESTION)
    expect(reply.locator(".source-meta time")).to_have_text("Mar 5, 2024")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-verified-card")


# -- the real default model ---------------------------------------------------------------


def test_the_local_model_drafts_then_answers_with_a_citation(browser, tmp_path, real_embedder):
    """Qwen2.5-Coder-1.5B in llama.cpp, the real MiniLM and Chroma, as `make run` serves."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=tmp_path / "seeds",
                        model_timeout_s=60)
    assert settings.answer_model == "local"  # the default
    app = create_app(settings, embedder_factory=lambda: real_embedder)
    service = app.extensions["qa"]
    service.warm_up()
    try:
        with LiveServer(app) as live:
            tabs = Tabs(browser, live.url)
            page = tabs.open().page
            watch_answers(page)
            page.locator("#question").fill(DRONES)
            page.locator("#question").press("Enter")
            try:  # a picture of the draft, when it lives long enough to take one
                page.locator(".draft-text").wait_for(timeout=120_000)
                screenshot(page, "desktop-local-draft")
            except PlaywrightTimeout:
                pass  # the observer below still says whether a draft was shown
            reply = wait_reply(page, 0, timeout=120_000)
            states = seen(page)
            kinds = [s["kind"] for s in states]
            assert "draft" in kinds and kinds.index("draft") < kinds.index("final"), states
            expect(reply.locator(".answer-text")).to_contain_text("8 million")
            expect(reply.locator("a.cite")).not_to_have_count(0)
            meta = reply.locator(".meta")
            expect(meta.locator(".meta-model")).to_have_text("Model local")
            expect(meta).to_contain_text(re.compile(r"First token \d"))
            screenshot(page, "desktop-local-model")
            tabs.check()
    finally:
        service.close()
