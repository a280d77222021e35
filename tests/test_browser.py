"""The chat page in a real headless Chromium against the real server and the real model.

One server (real HTTP, real Chroma, real MiniLM) and one browser serve the whole module;
each test gets a fresh browser context. Screenshots land in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import re
import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app import create_app
from qa.settings import Settings
from tests.browser_support import (
    PHONE,
    FaultInjector,
    LiveServer,
    Tab,
    Tabs,
    ask,
    ask_request,
    chromium,
    eventually,
    screenshot,
    wait_reply,
)
from tests.browser_support import sse as _sse
from tests.conftest import SEEDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


DRONES = "How many drones can Ukraine produce each year?"
DRONES_TITLE = "Ukraine’s Defense Potential: A Call to Action"
# Without the first question as context this abstains; with it, it cites the drones article.
FOLLOW_UP = "What is stopping it?"
LISBON = "What is the population of Lisbon?"
ARTICLE_LOADED = "() => document.querySelector('#article-text').textContent.length > 1000"


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_embedder):
    """The real app over real HTTP, seeded and warmed up once for the module."""
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(SEEDS, root / "seeds")
    app = create_app(
        Settings(data_dir=root / "data", seeds_dir=root / "seeds", answer_model="extractive"),
        embedder_factory=lambda: real_embedder,
    )
    faults = FaultInjector()
    faults.install(app)
    service = app.extensions["qa"]
    service.warm_up()
    with LiveServer(app) as live:
        live.faults = faults
        yield live
    service.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_tab(browser, server):
    """Open the chat page in a fresh context; on teardown, check the page never broke."""
    tabs = Tabs(browser, server.url)
    yield tabs.open
    tabs.check()


@pytest.fixture
def tab(open_tab) -> Tab:
    return open_tab()


# -- helpers ------------------------------------------------------------------------------


def in_view(page, inner: str, outer: str) -> bool:
    """Tell whether the first ``inner`` element is fully inside the box of ``outer``."""
    return page.evaluate(
        """([inner, outer]) => {
            const a = document.querySelector(inner).getBoundingClientRect();
            const b = document.querySelector(outer).getBoundingClientRect();
            return a.height > 0 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1
                && a.left >= b.left - 1 && a.right <= b.right + 1;
        }""",
        [inner, outer],
    )


def latest_message_in_view(page) -> bool:
    """Tell whether the log shows the latest message: all of it, or its start if it is taller."""
    return page.evaluate("""() => {
        const log = document.querySelector('#log').getBoundingClientRect();
        const msgs = document.querySelectorAll('#log .message');
        const m = msgs[msgs.length - 1].getBoundingClientRect();
        const topVisible = m.top >= log.top - 1 && m.top < log.bottom - 40;
        return topVisible && (m.bottom <= log.bottom + 1 || m.height > log.height - 16);
    }""")


# -- the conversation ---------------------------------------------------------------------


def test_answer_with_citation_opens_highlighted_quote(tab: Tab, server):
    page = tab.page
    server.faults.delay_next(0.8)  # long enough to see the thinking state for sure
    request = ask_request(page, DRONES)
    thinking = page.locator(".message.assistant .thinking")
    expect(thinking).to_be_visible()
    expect(page.locator("#send")).to_be_disabled()
    reply = wait_reply(page, 0)

    body = request.post_data_json
    assert body["question"] == DRONES and body["history"] == [] and body["stream"] is True
    # Either a JSON answer or a server-sent event stream, and the page renders both.
    content_type = request.response().headers["content-type"]
    assert content_type.startswith(("application/json", "text/event-stream"))

    expect(reply).not_to_have_class("abstained")
    expect(reply.locator(".answer-text")).to_contain_text("8 million")
    marker = reply.locator("a.cite").first
    expect(marker).to_have_text("[1]")
    card = reply.locator(".source-card").first
    expect(card.locator(".source-title")).to_have_text(DRONES_TITLE)
    quote = card.locator(".source-quote").inner_text()
    assert "8 million drones" in quote
    # Which model answered and how long each step took, in words a newcomer can read.
    meta = reply.locator(".meta")
    for shown in (r"Model\s+extractive", r"Retrieval\s+\d+ ms", r"Answer\s+\d+ ms"):
        expect(meta).to_contain_text(re.compile(shown))

    marker.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#source-panel-title")).to_have_text(DRONES_TITLE)
    mark = panel.locator("mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(quote)
    assert eventually(page, ARTICLE_LOADED)
    assert in_view(page, "#source-panel mark", "#article-view")
    expect(marker).to_have_class(re.compile(r"\bis-open\b"))  # which marker the panel shows
    # The article's Markdown headings read as bold text, not asterisks.
    expect(panel.locator("#article-text strong").first).to_have_text(DRONES_TITLE)
    expect(panel.locator("#article-text")).not_to_contain_text("**")
    screenshot(page, "desktop-answer-source-panel")

    page.locator("#panel-close").click()
    expect(panel).to_be_hidden()
    expect(marker).not_to_have_class(re.compile(r"\bis-open\b"))


def test_marker_hover_and_focus_show_quote_and_title(tab: Tab):
    page = tab.page
    reply = ask(page, DRONES)
    tooltip = page.locator("#cite-tooltip")
    marker = reply.locator("a.cite").first
    expect(tooltip).to_be_hidden()

    marker.hover()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("Ukraine’s Defense Potential")
    expect(tooltip).to_contain_text("8 million drones of various types")
    assert in_view(page, "#cite-tooltip", "body")
    screenshot(page, "desktop-citation-tooltip")

    page.mouse.move(5, 5)
    expect(tooltip).to_be_hidden()
    marker.focus()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("8 million drones of various types")
    # Screen readers get the quote through aria-describedby.
    described = marker.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_contain_text("8 million drones")


def test_follow_up_keeps_the_conversation(tab: Tab):
    page = tab.page
    first = ask(page, DRONES)
    first_article = first.locator(".source-card").first.get_attribute("href").split("?")[0]

    request = ask_request(page, FOLLOW_UP)
    reply = wait_reply(page, 1)
    history = request.post_data_json["history"]
    assert [t["role"] for t in history] == ["user", "assistant"]
    assert history[0]["content"] == DRONES
    assert "8 million" in history[1]["content"]
    assert history[1]["citations"][0]["article_id"] == "001_757337abefd0f303"

    # On its own "What is stopping it?" abstains; with the context it is about the drones.
    expect(reply).not_to_have_class("abstained")
    expect(reply.locator("a.cite")).not_to_have_count(0)
    assert reply.locator(".source-card").first.get_attribute("href").split("?")[0] == first_article
    # Said as the follow-up it was read as, not as the keywords it borrowed.
    expect(reply.locator(".meta .standalone")).to_have_text(f"read as a follow-up to “{DRONES}”")
    assert latest_message_in_view(page)


def test_new_conversation_clears_the_log_and_the_context(tab: Tab):
    page = tab.page
    ask(page, DRONES)
    expect(page.locator(".message")).to_have_count(2)

    page.locator("#new-conversation").click()
    expect(page.locator(".message")).to_have_count(0)
    expect(page.locator("#intro")).to_be_visible()
    expect(page.locator("#question")).to_be_focused()

    request = ask_request(page, FOLLOW_UP)
    reply = wait_reply(page, 0)
    assert request.post_data_json["history"] == []
    expect(reply).to_have_class("message assistant abstained")


def test_abstention_looks_different_from_an_answer(tab: Tab):
    page = tab.page
    reply = ask(page, LISBON)
    expect(reply).to_have_class("message assistant abstained")
    expect(reply.locator(".abstain-label")).to_contain_text("Not in the articles")
    expect(reply.locator(".answer-text")).to_contain_text("articles don't say")
    expect(reply.locator("a.cite")).to_have_count(0)
    expect(reply.locator(".meta")).to_contain_text("extractive")
    screenshot(page, "desktop-abstention")

    colours = page.evaluate("""() => {
        const probe = document.createElement('div');
        probe.className = 'message assistant';
        probe.innerHTML = '<div class="bubble"></div>';
        document.querySelector('#log').append(probe);
        const normal = getComputedStyle(probe.firstChild).backgroundColor;
        probe.remove();
        const bubble = document.querySelector('.message.abstained .bubble');
        return [normal, getComputedStyle(bubble).backgroundColor];
    }""")
    assert colours[0] != colours[1]


def test_enter_sends_and_shift_enter_adds_a_line(tab: Tab):
    page = tab.page
    box = page.locator("#question")
    box.click()
    page.keyboard.type("How many drones")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("can Ukraine produce each year?")
    expect(box).to_have_value("How many drones\ncan Ukraine produce each year?")
    expect(page.locator(".message")).to_have_count(0)

    page.keyboard.press("Enter")
    expect(page.locator(".message.user .user-text")).to_have_text(
        "How many drones\ncan Ukraine produce each year?"
    )
    expect(box).to_have_value("")
    reply = wait_reply(page, 0)
    expect(reply.locator("a.cite")).not_to_have_count(0)


def test_keyboard_only_flow(tab: Tab):
    page = tab.page
    expect(page.get_by_role("log", name="Conversation")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_visible()
    expect(page.get_by_role("button", name="Send question")).to_be_visible()

    # From the top of the page, Tab reaches the question box through the header.
    page.evaluate("() => document.activeElement.blur()")
    order = []
    for _ in range(8):
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.id || 'other'"))
        if order[-1] == "question":
            break
    assert order[-1] == "question", order
    assert "sources-button" in order and "new-conversation" in order
    assert order[-2] == "filters-toggle"  # the date filters sit just above the question

    page.keyboard.type(DRONES)
    page.keyboard.press("Enter")
    reply = wait_reply(page, 0)

    # Back from the question box into the answer: the source card, then the marker.
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.matches('a.cite')"):
            break
    marker = reply.locator("a.cite").first
    expect(marker).to_be_focused()
    expect(page.locator("#cite-tooltip")).to_be_visible()

    page.keyboard.press("Enter")
    expect(page.locator("#source-panel")).to_be_visible()
    expect(page.locator("#source-panel mark")).to_contain_text("8 million drones")
    expect(page.locator("#source-panel-title")).to_be_focused()

    page.keyboard.press("Escape")
    expect(page.locator("#source-panel")).to_be_hidden()
    expect(marker).to_be_focused()


# -- failures -----------------------------------------------------------------------------


def test_server_error_shows_a_message_and_retry_works(tab: Tab, server):
    page = tab.page
    server.faults.fail_next(1)
    reply = ask(page, DRONES)
    expect(reply).to_have_class("message assistant error")
    text = reply.locator(".error-text")
    expect(text).to_contain_text("busy answering other questions")
    expect(text).to_contain_text("Please try again in a second.")  # from Retry-After
    _assert_no_raw_payload(reply.inner_text())
    retry = reply.locator("button.retry")
    expect(retry).to_be_visible()
    expect(retry).to_be_enabled()
    screenshot(page, "desktop-error-retry")
    assert server.faults.failed == 1

    retry.click()
    expect(page.locator(".message.error")).to_have_count(0)
    answer = wait_reply(page, 0)
    expect(answer.locator("a.cite")).not_to_have_count(0)
    expect(page.locator(".message.user")).to_have_count(1)  # the retry does not repeat it


def test_network_error_shows_a_message_and_retry_works(tab: Tab):
    page = tab.page
    page.route("**/ask", lambda route: route.abort("internetdisconnected"), times=1)
    reply = ask(page, DRONES)
    expect(reply).to_have_class("message assistant error")
    expect(reply.locator(".error-text")).to_contain_text("Could not reach the server")
    reply.locator("button.retry").click()
    answer = wait_reply(page, 0)
    expect(answer.locator("a.cite")).not_to_have_count(0)


def test_rejected_question_shows_the_servers_reason(tab: Tab):
    page = tab.page
    # Control characters pass the page's trim() but the server strips them: a real 400.
    reply = ask(page, "\u0001\u0002")
    expect(reply).to_have_class("message assistant error")
    expect(reply.locator(".error-text")).to_contain_text(
        "question needs at least one visible character")
    _assert_no_raw_payload(reply.inner_text())
    expect(reply.locator("button.retry")).to_be_visible()


def test_stream_error_event_shows_retry(tab: Tab):
    page = tab.page
    body = _sse("retrieval", {"passages": []}) + _sse(
        "error", {"error": {"code": "model_error", "message": "The answer model timed out."}}
    )
    page.route("**/ask", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body=body), times=1)
    reply = ask(page, DRONES)
    expect(reply.locator(".error-text")).to_have_text("!The answer model timed out.")
    reply.locator("button.retry").click()
    expect(wait_reply(page, 0).locator("a.cite")).not_to_have_count(0)


def _assert_no_raw_payload(text: str) -> None:
    for raw in ("{", "}", '"error"', "<html", "Traceback"):
        assert raw not in text, text


# -- streaming ----------------------------------------------------------------------------


def test_page_renders_a_streamed_answer(tab: Tab):
    """Re-send the real server's answer as the SSE events of the contract."""
    page = tab.page

    def stream(route):
        sent = json.loads(route.request.post_data)
        real = route.fetch(
            post_data=json.dumps({**sent, "stream": False}),
            headers={**route.request.headers, "accept": "application/json"},
        ).json()
        events = [_sse("retrieval", {"passages": real.get("retrieved", [])})]
        events += [_sse("token", {"text": w}) for w in real["answer"].split(" ") if w]
        events += [_sse("citation", c) for c in real["citations"]]
        events += [": keep-alive\n\n", _sse("final", real)]
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"},
                      body="".join(events).replace("\n", "\r\n"))

    page.route("**/ask", stream)
    reply = ask(page, DRONES)
    expect(reply.locator(".answer-text")).to_contain_text("8 million")
    # The extractive tokens were the answer itself; the verified answer took their place.
    expect(reply.locator(".draft")).to_have_count(0)
    expect(reply).not_to_have_class(re.compile(r"\bdrafting\b"))
    expect(reply.locator("a.cite")).to_have_text(["[1]"])
    expect(reply.locator(".source-card")).to_have_count(1)
    expect(reply.locator(".meta")).to_contain_text("extractive")


# -- transparency -------------------------------------------------------------------------


def test_sources_view_lists_the_corpus_and_searches_it(tab: Tab):
    page = tab.page
    corpus = page.request.get("/articles").json()["articles"]
    assert len(corpus) >= 5
    page.locator("#sources-button").click()
    expect(page.locator("#sources-button")).to_have_attribute("aria-expanded", "true")
    results = page.locator("#sources-list .search-result")
    expect(results).to_have_count(len(corpus))
    status = page.locator("#sources-status")
    expect(status).to_have_text(f"{len(corpus)} articles in the collection")
    expect(results.locator(".result-title")).to_have_text([a["title"] for a in corpus])

    page.locator("#sources-query").fill("drone production")
    page.locator("#sources-query").press("Enter")
    expect(page.locator("#sources-status")).to_contain_text("matching passage")
    expect(results.first.locator(".result-snippet")).not_to_be_empty()
    assert 1 <= results.count() <= 10
    screenshot(page, "desktop-sources-search")

    results.first.click()
    expect(page.locator("#article-view")).to_be_visible()
    expect(page.locator("#article-text")).not_to_be_empty()
    page.locator("#panel-back").click()
    expect(page.locator("#sources-view")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#source-panel")).to_be_hidden()


def test_zero_requests_to_other_origins(tab: Tab):
    page = tab.page
    reply = ask(page, DRONES)
    reply.locator("a.cite").first.hover()
    reply.locator("a.cite").first.click()
    expect(page.locator("#source-panel mark")).to_be_visible()
    page.locator("#sources-button").click()
    page.locator("#sources-query").fill("NATO plan")
    page.locator("#sources-query").press("Enter")
    expect(page.locator("#sources-status")).to_contain_text("matching passage")
    page.locator("#sources-button").click()
    with page.expect_navigation():
        reply.locator(".source-card").first.click()  # opens in the panel
        page.locator("#article-full-link").click()
    expect(page.locator("mark#quote")).to_contain_text("8 million drones")
    assert in_view(page, "mark#quote", "body")
    screenshot(page, "desktop-article-page")

    assert len(tab.requests) >= 8
    assert tab.foreign_requests() == []
    paths = {urlsplit(u).path for u in tab.requests}
    assert {"/", "/static/chat.js", "/static/chat.css", "/ask", "/search"} <= paths


def test_phone_layout(open_tab):
    tab = open_tab(PHONE, has_touch=True, is_mobile=True)
    page = tab.page
    reply = ask(page, DRONES)
    ask(page, FOLLOW_UP)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert in_view(page, "#send", "body")
    assert in_view(page, "#new-conversation", "body")
    assert latest_message_in_view(page)
    screenshot(page, "phone-conversation")

    reply.locator("a.cite").first.tap()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["width"] == PHONE["width"] and box["height"] == PHONE["height"]
    expect(panel.locator("mark")).to_contain_text("8 million drones")
    assert eventually(page, ARTICLE_LOADED)
    assert in_view(page, "#source-panel mark", "#article-view")
    screenshot(page, "phone-source-panel")
    page.locator("#panel-close").tap()
    expect(panel).to_be_hidden()


# -- hostile input ------------------------------------------------------------------------

HOSTILE_ID = "zz-hostile-zorblax"
# No underscores: the title parser reads "__" as Markdown emphasis.
# The bold heading also runs the payload through the page's Markdown-bold rendering.
HOSTILE_TEXT = (
    '**Zorblax bulletin <img src="/xss-probe-title" onerror="window.xssFired=\'title\';alert(1)">'
    "<script>window.xssFired='title-script'</script>**\n"
    "The Zorblax council reported that quarterly zorblax output reached 77 crates "
    "<script>window.xssFired='body-script';alert(2)</script> "
    '<img src="/xss-probe-body" onerror="window.xssFired=\'body\';alert(3)"> this spring.\n'
    "Officials of the Zorblax council expect the zorblax output to double next year.\n"
)
HOSTILE_QUESTION = (
    "How many crates of zorblax output did the council report? "
    '<img src="/xss-probe-question" onerror="window.xssFired=\'question\';alert(4)">'
    "<script>window.xssFired='question-script'</script>"
)


@pytest.fixture
def hostile_article(server, browser):
    context = browser.new_context(base_url=server.url)
    created = context.request.post(
        "/articles", data={"article_id": HOSTILE_ID, "text": HOSTILE_TEXT}
    )
    assert created.status in (200, 201), created.text()
    yield HOSTILE_ID
    assert context.request.delete(f"/articles/{HOSTILE_ID}").ok
    context.close()


def test_hostile_question_and_article_execute_nothing(open_tab, hostile_article):
    # bypass_csp: prove the rendering itself is safe, not only that the CSP catches it.
    tab = open_tab(bypass_csp=True)
    page = tab.page
    reply = ask(page, HOSTILE_QUESTION)
    expect(page.locator(".message.user .user-text")).to_have_text(HOSTILE_QUESTION)
    expect(reply.locator(".source-title").first).to_contain_text(
        'Zorblax bulletin <img src="/xss-probe-title"'
    )
    expect(reply.locator(".answer-text")).to_contain_text("77 crates")
    reply.locator("a.cite").first.hover()
    expect(page.locator("#cite-tooltip")).to_contain_text("<img src=")
    reply.locator(".source-card").first.click()
    expect(page.locator("#source-panel mark")).to_contain_text("77 crates")
    expect(page.locator("#article-text")).to_contain_text("<script>window.xssFired='body-script'")
    expect(page.locator("#source-panel-title")).to_contain_text("<img")
    expect(page.locator("#article-text strong")).to_contain_text('Zorblax bulletin <img src="')
    page.locator("#sources-button").click()
    page.locator("#sources-query").fill("zorblax crates")
    page.locator("#sources-query").press("Enter")
    expect(page.locator("#sources-list")).to_contain_text("<script>")
    _assert_nothing_ran(tab)

    # The server-rendered article page, with the quote highlighted.
    href = reply.locator(".source-card").first.get_attribute("href")
    page.goto(href)
    expect(page.locator("h1")).to_contain_text('<img src="/xss-probe-title"')
    expect(page.locator(".article-text strong")).to_contain_text("<script>window.xssFired=")
    expect(page.locator("mark#quote")).to_contain_text("77 crates")
    expect(page.locator(".article-text")).to_contain_text("<script>window.xssFired='body-script'")
    _assert_nothing_ran(tab)

    # Control: the same probe does fire when markup is parsed, so the checks above can fail.
    page.evaluate(
        """() => document.body.insertAdjacentHTML('beforeend',
            '<img src="/xss-probe-control" onerror="window.xssFired=\\'control\\'">')"""
    )
    assert eventually(page, "() => window.xssFired") == "control"


def _assert_nothing_ran(tab: Tab) -> None:
    assert tab.page.evaluate("() => window.xssFired") is None
    assert tab.dialogs == []
    assert not [u for u in tab.requests if "xss-probe" in u]


def test_pages_carry_a_strict_csp(server, open_tab):
    tab = open_tab()
    response = tab.page.goto("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    response = tab.page.goto("/articles/001_757337abefd0f303?start=0&end=10")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(tab.page.locator("mark#quote")).to_have_text("**Ukraine’")
