"""A question's slips of the keyboard are mended to the words the indexed articles use."""

from __future__ import annotations

from qa import question as rules
from qa.contract.ask import AskRequest
from qa.spelling import english, respell, written_as
from tests.articles import post_articles


def test_slips_become_the_articles_words_with_the_case_typed(docs):
    assert respell("How many droens can Ukrane produce each year?", docs) == (
        "How many drones can Ukraine produce each year?")
    assert respell("how many droens can ukrane produce?", docs) == (
        "how many drones can ukraine produce?")


def test_a_word_the_articles_use_is_left_alone(docs):
    typed = "How many drones can Ukraine produce each year?"
    assert respell(typed, docs) == typed


def test_an_unknown_name_never_found_with_the_question_s_other_words_stays(docs):
    # "Rutter" is one edit from "Rutte", but nothing else asked is about him.
    assert respell("Who is Rutter?", docs) == "Who is Rutter?"


def test_short_words_and_english_words_are_never_mended(app, docs):
    post_articles(app, "Local news", {"gazette/quillon": (
        "The store on Quillon Street opened on Monday. The store sells maps of Quillon.")})
    # "score" is one edit from the articles' "store", but it is an English word.
    assert "score" in english()
    assert respell("What was the score on Quillon Street?", docs) == (
        "What was the score on Quillon Street?")
    # "Rute" is one edit from "Rutte", who is met with Zelensky, but four letters are too few.
    assert respell("Where did Zelensky meet Rute?", docs) == "Where did Zelensky meet Rute?"


def test_the_mended_word_is_one_the_articles_write():
    # "usaing" shares its stem with "USA": the articles never write it.
    assert written_as(["usaing"], ["The USA won gold."]) is None
    assert written_as(["usaing", "usain"], ["Usain Bolt won gold."]) == "usain"


def test_the_pipeline_searches_with_the_mended_question(app, docs, monkeypatch):
    pipeline = app.extensions["qa"].pipeline
    read = pipeline.retrieve(AskRequest("How many droens can Ukrane produce each year?"))
    assert read.question == "How many drones can Ukraine produce each year?"
    monkeypatch.setattr(rules, "OFF", {"respell"})
    read = pipeline.retrieve(AskRequest("How many droens can Ukrane produce each year?"))
    assert read.question == "How many droens can Ukrane produce each year?"


def test_the_answer_says_what_was_searched_for_when_a_slip_was_mended(app, docs):
    client = app.test_client()
    mended = client.post("/ask", json={"question": "How many droens can Ukrane produce?"})
    assert mended.get_json()["standalone_question"] == "How many drones can Ukraine produce?"
    # Capitals alone are not worth a mention.
    cased = client.post("/ask", json={"question": "how many drones can ukraine produce?"})
    assert "standalone_question" not in cased.get_json()


def test_only_the_first_few_unknown_words_are_looked_at(docs, monkeypatch):
    """Each costs a few lookups: a question of many unknown words stays cheap."""
    monkeypatch.setattr("qa.spelling.MAX_SLIPS", 1)
    assert respell("How many droens can Ukrane produce?", docs) == (
        "How many drones can Ukrane produce?")


def test_a_slipped_function_word_is_mended_when_only_one_fits(docs):
    # No index holds "between", so no article word is one edit from "betwen".
    assert respell("What was agreed betwen Zelensky and Rutte?", docs) == (
        "What was agreed between Zelensky and Rutte?")
    # "theri" could be "their" or "there"; a capital may start a name ("Thera", not "there").
    assert respell("What did theri leaders agree?", docs) == "What did theri leaders agree?"
    assert respell("Who met Thera in Kyiv?", docs) == "Who met Thera in Kyiv?"
