"""Questions typed in lower case get the capitals the indexed articles give their words."""

from __future__ import annotations

import pytest

from qa import question as rules
from qa.condense import Turn
from qa.contract.ask import AskRequest
from qa.question import entities
from qa.truecase import truecase, typed_lower
from tests.articles import post_articles


@pytest.mark.parametrize("text, lower", [
    ("where did zelensky meet rutte?", True),
    ("Where did zelensky meet rutte? and why.", True),  # sentence openers do not count
    ("Where did Zelensky meet Rutte?", False),
    ("what did NATO promise?", False),
])
def test_only_text_without_capitals_past_its_sentence_openers_counts_as_typed_lower(text, lower):
    assert typed_lower(text) is lower


def test_a_lower_case_question_gets_the_capitals_the_articles_give_its_words(docs):
    cased = truecase("where did mark rutte meet zelensky, and what did nato promise?", docs)
    assert cased == "where did Mark Rutte meet Zelensky, and what did NATO promise?"
    assert set(entities(cased)) == {"mark", "rutt", "zelenski", "nato"}


def test_words_the_articles_write_in_lower_case_or_never_write_stay_as_typed(docs):
    # "drones" and "summit" are lower case in the seeds; no seed names Capriati.
    assert truecase("how many drones were promised at the summit?", docs) == (
        "how many drones were promised at the summit?")
    assert truecase("how old is jennifer capriati?", docs) == "how old is jennifer capriati?"


def test_a_question_typed_with_capitals_is_left_as_typed(docs):
    typed = "Where did mark Rutte meet zelensky?"
    assert truecase(typed, docs) == typed


def test_a_word_capitalised_only_at_the_start_of_sentences_is_not_a_name(app, docs):
    # Capitalised five times, each opening a sentence or a quote; once in lower case.
    post_articles(app, "Local news", {"gazette/ferry": (
        "Ferry crossings rose this year. Ferry fares fell. Ferry staff struck. "
        "\u201cFerry travel is back,\u201d she said. Ferry timetables changed. "
        "A new ferry arrives in May.")})
    assert truecase("when does the new ferry arrive?", docs) == "when does the new ferry arrive?"


def test_a_word_written_both_ways_keeps_its_capital_only_when_it_nearly_always_has_one(
        app, docs):
    # "Bank" three times in five away from a sentence's start: most often, not nearly always.
    post_articles(app, "Local news", {
        "gazette/bank": "Savers moved to the Bank of Quillon. Staff at the Bank said the Bank "
                        "would cut rates, and each bank in the town followed; one bank closed.",
        "gazette/okafor": "The bridge was opened by Mayor Lena Okafor on Monday. Residents "
                          "thanked Okafor."})
    assert truecase("which bank did lena okafor praise?", docs) == (
        "which bank did Lena Okafor praise?")


def test_the_pipeline_reads_the_question_and_the_user_s_earlier_turns_cased(app, docs):
    pipeline = app.extensions["qa"].pipeline
    history = [Turn("user", "did rutte visit kyiv?"), Turn("assistant", "yes [1]."),
               Turn("user", "where did zelensky meet rutte?"), Turn("assistant", "in kyiv [1].")]
    read = pipeline.retrieve(AskRequest("and what did nato promise?", history))
    assert read.question == "and what did NATO promise?"
    # The last question before it is the only earlier one the rules read.
    assert [t.content for t in read.history] == [
        "did rutte visit kyiv?", "yes [1].", "where did Zelensky meet Rutte?", "in kyiv [1]."]


def test_switched_off_the_pipeline_reads_the_question_as_typed(app, docs, monkeypatch):
    monkeypatch.setattr(rules, "OFF", {"truecase"})
    read = app.extensions["qa"].pipeline.retrieve(AskRequest("where did zelensky meet rutte?"))
    assert read.question == "where did zelensky meet rutte?"
