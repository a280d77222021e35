"""An abbreviation the articles never use is read as the name they write with its initials."""

from __future__ import annotations

from qa.abbreviations import MAX_ABBREVIATIONS, name_for, spell_out


def test_an_abbreviation_no_article_uses_becomes_the_name_it_stands_for(docs):
    # The seeds name the "Ukraine Defense Contact Group" once and never write "UDCG".
    assert spell_out("Where did the UDCG meet?", docs) == (
        "Where did the Ukraine Defense Contact Group meet?")
    assert spell_out("Who is in the UDCG's group?", docs) == (
        "Who is in the Ukraine Defense Contact Group's group?")


def test_an_abbreviation_the_articles_use_or_cannot_spell_out_stays_as_typed(docs):
    assert spell_out("What did NATO promise?", docs) == "What did NATO promise?"
    assert spell_out("What is PURL?", docs) == "What is PURL?"
    # No name in the seeds has these initials: it may be someone they do not cover.
    assert spell_out("What did the XQZ say?", docs) == "What did the XQZ say?"
    # Two capitals are too easily other initials: the seeds write "Prime Minister" and
    # never "PM", yet "3 PM" is no Prime Minister. "ALL" is a stopword, not a name.
    assert spell_out("What did the PM say at 3 PM?", docs) == "What did the PM say at 3 PM?"
    assert spell_out("Did ALL of them meet?", docs) == "Did ALL of them meet?"


def test_a_shouted_question_is_not_read_as_abbreviations(docs):
    shouted = "WHERE DID UDCG MEET?"
    assert len({"WHERE", "DID", "UDCG", "MEET"}) > MAX_ABBREVIATIONS
    assert spell_out(shouted, docs) == shouted


def test_a_name_is_found_by_its_capitals_skipping_small_words():
    texts = ["The Food and Drug Administration said on Monday.",
             "Officials of the Food and Drug Administration met.",
             "The firm's food and drug arm"]  # no capitals: no name
    assert name_for("FDA", texts) == "Food and Drug Administration"
    assert name_for("FDA", texts[2:]) is None
    assert name_for("CNB", ["the Czech\nNational  Bank held rates"]) == "Czech National Bank"


def test_ask_reads_the_abbreviation_as_the_name_and_says_so(client):
    body = client.post("/ask", json={"question": "Where did the UDCG meet?"}).get_json()
    assert body["standalone_question"] == "Where did the Ukraine Defense Contact Group meet?"
    assert not body["abstained"]
    assert any("Ukraine Defense Contact Group" in c["quote"] for c in body["citations"])
