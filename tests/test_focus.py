"""Whether a sentence stands where its article talks about what the question names."""

from __future__ import annotations

import pytest

from qa.focus import NEAR, around, unfocused
from tests.articles import AWARDS, FRAUD, post_articles


def test_a_sentence_far_from_the_asked_name_is_unfocused():
    article = "Kestan sold more sensors. Veltrona's profit rose. Its margin widened to 15.9%."
    # The article names Kestan, but not near the sentence cited.
    assert unfocused("What was Kestan's margin?", "Veltrona's profit rose. Its margin "
                     "widened to 15.9%.", article)
    assert not unfocused("What was Veltrona's margin?", "Veltrona's profit rose. Its margin "
                         "widened to 15.9%.", article)
    # A name its article never uses is another check's (STRANGERS); no name, nothing to hold.
    assert not unfocused("What was Orvia's margin?", "Its margin widened.", article)
    assert not unfocused("what was the margin?", "Its margin widened.", article)


def test_a_country_is_near_when_its_capital_or_demonym_is():
    article = "Moscow said little. Kyiv wants to join. Such cooperation is unacceptable for Russia."
    near = "Such cooperation is unacceptable for Russia."
    assert not unfocused("What were Moscow's reasons?", near, article)
    assert not unfocused("What were the Russian government's reasons?", near, article)
    assert unfocused("What were Kyiv's reasons?", near, article)


@pytest.mark.parametrize("question, quoted", [
    ("How much did Glass Harbour cost to make?", True),
    ("How much did The Salt Road cost to make?", False),  # the only cost is Glass Harbour's
])
def test_the_extractive_reader_never_quotes_the_other_of_two(app, question, quoted):
    post_articles(app, "Lisbon awards", {"film/lisbon": AWARDS})
    data = app.test_client().post("/ask", json={"question": question}).get_json()
    quotes = [c["quote"] for c in data["citations"]]
    assert ("It cost about 3.2 million euros to make." in quotes) is quoted


def test_a_lede_stands_near_the_name_its_next_sentence_gives():
    lede = FRAUD.index("authority.") + len("authority.")
    near = around(FRAUD, 0, lede, "Finance chief jailed")
    assert "Derek Fowler" in near and not unfocused("How much did Derek Fowler steal?", near,
                                                    FRAUD)
    # A later sentence: only the title and what stands before it.
    last = FRAUD.rindex("The court heard")
    later = around(FRAUD, last, len(FRAUD), "Finance chief jailed")
    assert later.startswith("Finance chief jailed ") and len(later) < NEAR + 100
    assert "Derek Fowler" not in later


def test_a_name_further_into_the_sentence_after_a_lede_is_anothers():
    article = ("Ireland's Brian O'Driscoll is one of four captains in the squad for the aid "
               "match. France's Fabien Pelous, Scotland's Gordon Bullock and Italy's Marco "
               "Bortolami are also in it.")
    lede = article.index("match.") + len("match.")
    near = around(article, 0, lede, "Captains lining up for aid match")
    assert unfocused("Who is Italy's captain?", near, article)
    assert not unfocused("Who is France's captain?", near, article)  # opens the sentence

