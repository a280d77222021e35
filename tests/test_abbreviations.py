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
    # A name the articles only write with a possessive is still their name.
    assert name_for("ESA", ["The European Space Agency's probe entered orbit."]) == (
        "European Space Agency")


def test_ask_reads_the_abbreviation_as_the_name_and_says_so(client):
    body = client.post("/ask", json={"question": "Where did the UDCG meet?"}).get_json()
    assert body["standalone_question"] == "Where did the Ukraine Defense Contact Group meet?"
    assert not body["abstained"]
    assert any("Ukraine Defense Contact Group" in c["quote"] for c in body["citations"])


def test_an_abbreviation_typed_in_lower_case_is_spelled_out_too(docs):
    assert spell_out("where did the udcg meet?", docs) == (
        "where did the Ukraine Defense Contact Group meet?")
    assert spell_out("where did the udcg’s members meet?", docs) == (
        "where did the Ukraine Defense Contact Group’s members meet?")


class _Initials:
    """A keyword index that holds none of the question's words and, for any initials,
    a passage naming "The Eastern Harbour" and the "Federal Economic Department"."""

    def document_frequencies(self, terms):
        return {}, 100

    def texts_with_initials(self, letters, limit):
        return ["The Eastern Harbour is run by the Federal Economic Department."]


def test_a_word_or_a_slip_typed_in_lower_case_is_no_abbreviation():
    index = _Initials()
    assert spell_out("who runs the FED?", index) == (
        "who runs the Federal Economic Department?")
    # "fed" is an English word, "teh" the slip of one: neither is read as initials.
    assert spell_out("who runs the fed?", index) == "who runs the fed?"
    assert spell_out("where is teh port?", index) == "where is teh port?"
    assert spell_out("where is TEH port?", index) == "where is The Eastern Harbour port?"


def test_a_question_typed_in_lower_case_keeps_its_capitals_after_a_spelling_out(client):
    body = client.post("/ask", json={"question": "did zelensky attend the udcg meeting?"}
                       ).get_json()
    assert body["standalone_question"] == (
        "did Zelensky attend the Ukraine Defense Contact Group meeting?")


class _Roles:
    """A keyword index whose passages write a role out, and hold the terms ``held``."""

    def __init__(self, texts, held=()):
        self.texts, self.held = texts, set(held)

    def document_frequencies(self, terms):
        return {t: 3 for t in terms if t in self.held}, 100

    def texts_with_run(self, run, limit):
        return self.texts

    def texts_with_initials(self, letters, limit):
        return []


def test_a_role_is_read_as_the_articles_write_it_out():
    index = _Roles(["the club's chief executive  jez moxey said", "its chief executive quit"])
    assert spell_out("Who is the club's CEO?", index) == "Who is the club's chief executive?"
    assert spell_out("who is the club's ceo?", index) == "who is the club's chief executive?"
    assert spell_out("Which CEOs quit?", index) == "Which chief executives quit?"
    # Written out as a title, it keeps the articles' capitals.
    titled = _Roles(["Chief Financial Officer Matthias Oberle said"])
    assert spell_out("What did the CFO say?", titled) == (
        "What did the Chief Financial Officer say?")


def test_a_role_the_articles_abbreviate_or_never_name_stays_as_typed():
    # The articles write the role out too, but they use "CEO" as well: it stays.
    both = _Roles(["the CEO said", "its chief executive quit"], held={"ceo"})
    assert spell_out("Who is the CEO?", both) == "Who is the CEO?"
    assert spell_out("Who is the CEO?", _Roles([])) == "Who is the CEO?"
