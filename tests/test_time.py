"""Time in answers: dated feed entries, "the latest" favours the newer one, date filters,
citations that carry the date, outlet and address (issue 13)."""

from pathlib import Path

import pytest

from qa.recency import (
    asks_latest,
    day_of,
    days_as_said,
    days_stated,
    mark_newer,
    misdated,
    newest_first,
    without_years,
)

ITEM = ("<item><title>{title}</title><guid>{guid}</guid><link>https://herald.example/{guid}"
        "</link><pubDate>{date}</pubDate><description>{text}</description></item>")
ITEMS = [
    {"guid": "rate-jan", "title": "Freedonia bank raises main interest rate",
     "date": "Mon, 15 Jan 2024 08:00:00 GMT",
     "text": "The central bank of Freedonia raised its main interest rate to 4% on Monday, "
             "its highest level in a decade. Savers welcomed the rise."},
    {"guid": "rate-jun", "title": "Another rise in Freedonia",
     "date": "Mon, 10 Jun 2024 08:00:00 GMT",
     "text": "Freedonia's central bank lifted its main rate to 4.75% on Monday. "
             "Economists had expected the move."},
]
QUESTION = "What is the latest main interest rate of the Freedonia central bank?"


@pytest.fixture
def dated_client(real_app, tmp_path: Path):
    feed = tmp_path / "herald.xml"
    feed.write_text('<rss version="2.0"><channel><title>Herald</title>'
                    + "".join(ITEM.format(**i) for i in ITEMS) + "</channel></rss>")
    service = real_app.extensions["qa"]
    service.ensure_seeded()
    report = service.ingestor.ingest_paths([feed])
    assert report.added and not report.rejected
    return real_app.test_client()


def ask(client, **body) -> dict:
    response = client.post("/ask", json={"question": QUESTION, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_latest_gives_the_newer_figure_with_its_date_and_address(dated_client):
    data = ask(dated_client)
    assert "4.75%" in data["answer"] and not data["abstained"]
    assert " 4% " not in data["answer"]  # the older figure is superseded, not listed
    assert len(data["citations"]) == 1
    cited = data["citations"][0]
    assert cited["article_id"] == "herald/rate-jun"
    assert cited["published"].startswith("2024-06-10")
    assert cited["url"] == "https://herald.example/rate-jun" and cited["source"] == "Herald"


def test_a_date_filter_between_them_gives_the_older_figure(dated_client):
    data = ask(dated_client, filters={"published_before": "2024-03-01"})
    assert "4%" in data["answer"] and "4.75" not in data["answer"]
    assert {c["article_id"] for c in data["citations"]} == {"herald/rate-jan"}
    assert all(c["published"].startswith("2024-01-15") for c in data["citations"])


def test_without_the_recency_marks_the_older_wording_leads(dated_client, monkeypatch):
    """The feature is what puts the newer entry first: without it the older article,
    worded closer to the question, leads the answer (so the test above can fail)."""
    monkeypatch.setattr("qa.pipeline.mark_newer", lambda question, candidates: None)
    data = ask(dated_client)
    assert data["citations"][0]["article_id"] == "herald/rate-jan"


def test_latest_words_and_ranks():
    assert asks_latest("What is the latest rate?") and asks_latest("who currently leads?")
    assert not asks_latest("What rate did the bank set in January?")

    class Chunk:
        def __init__(self, published):
            self.published = published

    class Cand:
        def __init__(self, published):
            self.chunk, self.recency = Chunk(published), 0.0

    cands = [Cand("2024-01-15T08:00:00+00:00"), Cand(None), Cand("2024-06-10"),
             Cand("2024-03-01")]
    mark_newer("the latest figure?", cands)
    assert [c.recency for c in cands] == [0.0, 0.0, 1.0, 0.5]
    fresh = [Cand("2024-01-15"), Cand("2024-06-10")]
    mark_newer("the figure in january?", fresh)
    assert [c.recency for c in fresh] == [0.0, 0.0]

    def scored(score, recency):
        c = Cand(None)
        c.score, c.recency = score, recency
        return c

    old, new, mid = scored(0.9, 0.0), scored(0.85, 1.0), scored(0.5, 0.5)
    assert newest_first([old, new, mid], 0.8) == [new]  # close to the best: newest leads
    old, new = scored(0.9, 0.0), scored(0.6, 1.0)
    assert newest_first([old, new], 0.8) == [old, new]  # a clearly better sentence wins
    undated = [scored(0.9, 0.0), scored(0.8, 0.0)]
    assert newest_first(undated, 0.8) == undated
    assert day_of("2024-06-10T08:00:00+00:00") == "10 June 2024" and day_of(None) is None


@pytest.mark.parametrize("outlet", ["herald", "  HERALD ", "Herald"])
def test_an_outlet_filter_matches_whatever_its_case(dated_client, outlet):
    data = ask(dated_client, filters={"sources": [outlet]})
    assert not data["abstained"] and data["citations"]
    assert {c["source"] for c in data["citations"]} == {"Herald"}


def test_an_outlet_filter_matches_without_its_accents(dated_client):
    created = dated_client.post("/articles", json={
        "article_id": "rv-rate", "title": "Freedonia holds its rate",
        "text": "Freedonia holds its rate\nThe Freedonia central bank kept its main "
                "interest rate at 5.5% on Thursday.", "published": "2024-07-01",
        "source": "The Reykjavík Review"})
    assert created.status_code == 201, created.get_json()
    data = ask(dated_client, filters={"sources": ["the reykjavik review"]})
    assert {c["source"] for c in data["citations"]} == {"The Reykjavík Review"}


@pytest.mark.parametrize("filters", [{"sources": ["Gazette"]},
                                     {"published_after": "2030-01-01"},
                                     {"sources": ["Herald"], "published_before": "2023-12-31"}])
def test_filters_no_article_matches_say_so(dated_client, filters):
    data = ask(dated_client, filters=filters)
    assert data["abstained"] and data["citations"] == []
    assert data["answer"].startswith("No article matches the filters")
    assert data["retrieved"] == []


def test_a_filter_some_article_matches_is_not_called_empty(dated_client):
    data = ask(dated_client, filters={"sources": ["Herald"], "published_before": "2024-03-01"})
    assert not data["answer"].startswith("No article matches")


def test_days_are_read_as_written_in_either_order():
    assert days_stated("On 14 November 2026, Nov. 3rd and May 5, 2006; the 2nd of March") == {
        (14, 11), (3, 11), (5, 5), (2, 3)}
    assert days_stated("In November 2026 it may rise 20%") == set()


@pytest.mark.parametrize(("claim", "text", "published", "wrong"), [
    # A weekday is the one before or after the article's day (2026-11-16 is a Monday).
    ("It peaked on 15 November.", "The river peaked on Sunday afternoon.", "2026-11-16", False),
    ("It peaked on 16 November.", "The river peaked on Sunday afternoon.", "2026-11-16", True),
    ("It opens on 20 November.", "It opens on Friday.", "2026-11-16", False),
    ("They met on 15 November.", "They met yesterday.", "2026-11-16", False),
    ("They met on 16 November.", "They met today.", "2026-11-16", False),
    # A text that names no time tells of its own day; one that names another does not.
    ("It rose on 16 November.", "The river rose 4.1 metres.", "2026-11-16", False),
    ("It rose on 16 November.", "The river rose 4.1 metres last week.", "2026-11-16", True),
    ("It rose on 16 November.", "The river rose 4.1 metres.", None, True),
    # Written out, in either order; the question's own date may be repeated.
    ("The vote is on 5 May.", "the election on may 5 was close", None, False),
    ("The vote is on 6 May.", "the election on may 5 was close", None, True),
    ("It rose in November 2026.", "It rose.", None, False),  # no day: not this rule
])
def test_an_answers_day_is_the_one_its_quote_says_or_points_to(claim, text, published, wrong):
    assert misdated(claim, text, published) is wrong


def test_the_questions_own_date_may_be_repeated():
    assert not misdated("On 3 May the polls open.", "The polls open.", None,
                        given="What happens on 3 May?")


def test_only_the_given_years_are_cut_and_only_where_they_date_a_day_or_month():
    made_up = {"2016"}
    assert without_years("Saturday, February 26, 2016 [1].", made_up) == (
        "Saturday, February 26 [1].")
    assert without_years("on 26th of February 2016.", made_up) == "on 26th of February."
    assert without_years("in February 2016 he left.", made_up) == "in February he left."
    assert without_years("He won in 2016.", made_up) == "He won in 2016."  # a year alone
    assert without_years("on 26 February 2005.", made_up) == "on 26 February 2005."  # stated


@pytest.mark.parametrize("claim, kept", [
    ("29 years old", "November 2026"),
    ("On 29 November he made two changes", "29 November 2026"),
    ("On November 29th", "29 November 2026"),
    ("In November 2026", "November 2026"),
    ("He made two changes on 30 November", "November 2026"),
])
def test_a_shown_day_is_said_only_by_a_claim_that_writes_it_as_a_date(claim, kept):
    assert days_as_said(claim, "Who? 29 November 2026") == f"Who? {kept}"
