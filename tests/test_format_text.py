"""Text files with front matter, titles read from text, and publication dates."""

import datetime as dt
import time
from pathlib import Path

import pytest

from vectorstore.article import Article
from vectorstore.formats.dates import normalise_published
from vectorstore.formats.text import front_matter, read
from vectorstore.formats.title import MAX_LINE_TITLE, short_title, tidy_title, title_of

ARTICLES = Path(__file__).parent / "fixtures" / "articles"


def test_front_matter_gives_metadata_and_is_not_text():
    [briefing] = read(ARTICLES / "briefing.md", ARTICLES, "x")
    assert isinstance(briefing, Article)
    assert briefing.title == "Morning briefing: harbour and port"
    assert briefing.published == "2024-07-01T06:00:00+01:00"
    assert briefing.source == "Ledger Briefings"
    assert briefing.url == "https://ledger.example/briefings/2024-07-01"
    assert briefing.text.startswith("**Harbour news in brief**")
    assert "---" not in briefing.text


def test_a_file_without_front_matter_has_no_metadata(tmp_path: Path):
    (tmp_path / "plain.txt").write_text("Headline\n---\nnot: front matter\n")
    [plain] = read(tmp_path / "plain.txt", tmp_path, "x")
    assert (plain.title, plain.published, plain.source, plain.url) == (
        "Headline", None, None, None)
    unclosed = "---\ndate: 2024-01-01\nno end\n"
    assert front_matter(unclosed) == ({}, unclosed)
    fields, rest = front_matter("---\ndate: '2024-01-02'\nLink: https://x.example\n---\nBody")
    assert fields == {"date": "2024-01-02", "link": "https://x.example"} and rest == "Body"


def test_a_headline_line_is_the_title():
    assert title_of("\n\n**Ukraine’s Defense Potential: A Call to Action**\nBody") == (
        "Ukraine’s Defense Potential: A Call to Action")
    assert title_of("## _Quiet_ *news* day  \nBody") == "Quiet news day"


@pytest.mark.parametrize(("text", "title"), [
    # The BBC CSV: headline and lead on one lowercased line, punctuation stripped.
    ("tigers wary of farrell  gamble  leicester say they will not be rushed into making a "
     "bid for andy farrell should the great britain rugby league captain decide to switch "
     "codes.   we and anybody else", "tigers wary of farrell gamble"),
    ("yeading face newcastle in fa cup premiership side newcastle united face a trip to "
     "ryman premier league leaders yeading in the fa cup third round.  the game",
     "yeading face newcastle in fa cup premiership side newcastle…"),
    # An ordinary lead without a headline: its first sentence when short enough...
    ("Port traffic fell by a fifth in March, the harbour authority said. Volumes fell.",
     "Port traffic fell by a fifth in March, the harbour authority said"),
    ("Mr. Smith went to Washington on Monday. He met the U.S. envoy.",
     "Mr. Smith went to Washington on Monday"),
    # ...else whole words and an ellipsis, not ending on a dangling word.
    ("The central bank raised its main interest rate to 4.75 % on Thursday, its second "
     "rise this year, citing stubborn inflation in services and wages.",
     "The central bank raised its main interest rate to 4.75 %…"),
    # A break too early to leave a title is passed over.
    ("Breaking: the harbour tunnel opened to traffic on Thursday morning after six years "
     "of work, two years late.", "Breaking: the harbour tunnel opened to traffic on Thursday…"),
])
def test_a_lead_glued_to_its_body_gets_a_short_title(text: str, title: str):
    assert title_of(text) == title
    assert len(title) <= 100


def test_short_title_never_cuts_a_word():
    lead = "Supercalifragilisticexpialidocious " * 5
    assert short_title(lead) == "Supercalifragilisticexpialidocious…"
    assert short_title("x" * 150) == "x" * 150  # one word: kept whole up to a headline's length
    assert short_title("x" * 300) == "x" * MAX_LINE_TITLE + "…"  # then cut: no title is unbounded


def test_a_given_title_is_tidied_not_replaced():
    assert tidy_title("  Rates\n rise  ") == "Rates rise"
    long = "word " * 60
    assert len(tidy_title(long)) <= 70 and tidy_title(long).endswith("…")


@pytest.mark.parametrize(("value", "iso"), [
    ("2024-09-01", "2024-09-01"),
    ("20240901", "2024-09-01"),
    ("2024-09-01T10:00:00Z", "2024-09-01T10:00:00+00:00"),
    ("2024-09-01 10:00", "2024-09-01T10:00:00+00:00"),  # no zone: UTC
    ("2024-09-01T10:00:00.123+02:00", "2024-09-01T10:00:00+02:00"),
    ("Tue, 03 Sep 2024 09:39:21 GMT", "2024-09-03T09:39:21+00:00"),
    ("Tue, 03 Sep 2024 09:39:21 -0500", "2024-09-03T09:39:21-05:00"),
    ("4 April 2024", "2024-04-04"),
    ("April 4, 2024 10:30 UTC", "2024-04-04T10:30:00+00:00"),
    ("25/12/2024", "2024-12-25"),
    (1717236000, "2024-06-01T10:00:00+00:00"),
    (1717236000000, "2024-06-01T10:00:00+00:00"),
    (dt.date(2024, 1, 2), "2024-01-02"),
    (time.strptime("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S"), "2024-01-02T03:04:05+00:00"),
])
def test_published_becomes_iso_8601(value, iso):
    assert normalise_published(value) == (iso, None)


@pytest.mark.parametrize(("value", "why"), [
    ("yesterday", "has no year"),
    ("12", "has no year"),
    ("March 2024", "has no day"),
    ("01/02/2024", "is ambiguous"),
    ("2024-13-45", "is not a date"),
    ("0001-01-01", "out of range"),
    (42, "not a date"),
    (True, "not a date"),
    ("x" * 500, "not a date"),
])
def test_a_bad_date_is_dropped_with_a_note(value, why):
    found, note = normalise_published(value)
    assert found is None and why in note


def test_no_date_is_no_note():
    assert normalise_published(None) == normalise_published("  ") == (None, None)
