import pytest

from qa.condense import Turn, condense
from qa.decompose import split_question
from qa.question import (
    answer_type,
    counts_other,
    entities,
    other_kind,
    share_for_count,
    supplies,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many drones can Ukraine produce a year?", "count"),
        ("What percentage of the potential is unfunded?", "percent"),
        ("How much money does Ukraine plan to invest?", "money"),
        ("What is NATO's total budget?", "money"),
        ("How much did the club pay for him?", "money"),
        ("How much will the sale raise?", "number"),
        ("What's the club's annual revenue?", "money"),
        # The sum must be what is asked.
        ("What was the vote on the budget?", None),
        ("How old is the striker?", "number"),
        ("What is the population of Lisbon?", "count"),
        ("How long is his contract?", "duration"),
        ("What year was the line closed?", "year"),
        ("When is the first meeting?", "date"),
        ("Where did they meet?", "place"),
        ("Which country chairs the contact group?", "place"),
        ("Who announced the agreement?", "name"),
        ("What's the name of the senior NATO official Politico quoted?", "name"),
        ("Which Chinese companies did Zelensky name?", "name"),
        ("Who is the leader of the council?", "name"),
        ("Who is responsible?", "name"),
        # Who someone is asks what they are ("the council's leader"), not for a name.
        ("Who is Gareth Pritchard?", None),
        ("Who was Ramón Echevarría?", None),
        ("And who is he?", None),
        ("who's Rutte?", None),
        ("Who is Lumen's CEO?", "name"),
        ("Who is Prime Minister?", "name"),
        ("Why does Russia object?", None),
        ("What injury kept him out?", None),
    ],
)
def test_answer_type(question, kind):
    assert answer_type(question) == kind


def test_money_needs_a_currency():
    assert supplies("money", "It makes 8 million drones.") == 0
    assert supplies("money", "It costs $8 million.") == 1
    assert supplies("money", "the striker joined the gunners for £17m.") == 1


def test_money_is_in_any_currency_in_use():
    for sentence in ("It will cost 2 billion Swiss francs.", "2 billion swiss francs",
                     "a fine of 3m hong kong dollars",
                     "revenue of 2.6 billion Swedish kronor", "a fine of 500,000 rupees",
                     "CHF 40 million", "₹500 crore",
                     "It paid 3 billion yuan", "a 40p rise", "50 cents"):
        assert supplies("money", sentence) == 1, sentence
    # Codes count only in capitals, and units whose everyday sense is not money not at all.
    for sentence in ("all 5 players scored", "She won 2 gold medals.", "It passed the 1,000 mark.",
                     "5 players won", "20 swiss players won"):
        assert supplies("money", sentence) == 0, sentence


def test_a_count_is_not_a_year_a_sum_a_share_an_ordinal_or_a_modifier():
    for sentence in ("NATO has a 10-year plan to rebuild Ukraine's army.",
                     "The first meeting on the army is in 2025.",
                     "Nearly $35 billion is needed, and 40% of it is unfunded."):
        assert supplies("count", sentence) == 0, sentence
    assert supplies("count", "The army has 900,000 soldiers.") == 1
    assert supplies("count", "He sat on a 19-strong panel.") == 1


def test_a_duration_is_in_any_unit_of_time():
    kind = answer_type("How long did the engine burn last?")
    for sentence in ("Engineers confirmed that a 38-minute engine burn had slowed it.",
                     "The talks lasted six hours.", "The meeting took an hour.",
                     "Its battery lasts up to 15 hours.", "NATO has a 10-year plan."):
        assert supplies(kind, sentence) == 1, sentence
    for sentence in ("The engine burn slowed it.", "The talks began on Tuesday."):
        assert supplies(kind, sentence) == 0, sentence


def test_counts_and_times_news_writes_out():
    assert supplies("count", "Sixty people died in the floods.") == 1
    assert supplies("count", "Seventeen people were hurt.") == 1
    for sentence in ("The match took place last night.", "He resigned two weeks ago.",
                     "The stadium opens next season.", "She spoke this morning."):
        assert supplies("date", sentence) == 1, sentence
    assert supplies("date", "It will run for the next season.") == 0


def test_what_match_reports_and_polls_write():
    assert supplies("count", "Asante scored twice.") == 1
    assert supplies("percent", "They won almost half of the vote.") == 1
    assert supplies("percent", "Turnout was two-thirds.") == 1
    for sentence in ("Asante scored the winner in the 88th minute.", "Polls close at 10pm.",
                     "Engineers confirmed at 09:42 GMT that the burn had slowed it.",
                     "He was sent off just before half-time."):
        assert supplies("date", sentence) == 1, sentence
    assert supplies("date", "The asteroid spins once every 2.4 hours.") == 0


def test_more_of_what_news_writes():
    assert supplies("count", "Rivera scored a hat-trick.") == 1
    assert supplies("count", "Tens of thousands of people attended.") == 1
    assert supplies("percent", "Three in five voters backed the proposal.") == 1
    assert supplies("percent", "He scored three in five minutes.") == 0
    for sentence in ("The company was founded in the 1990s.",
                     "The law comes into force in the new year.", "He was hurt at the weekend.",
                     "Voting ends at the end of the month.", "Results are due later in the week."):
        assert supplies("date", sentence) == 1, sentence
    for sentence in ("The road will be closed for a fortnight.",
                     "He served as mayor from 2010 to 2018."):
        assert supplies("duration", sentence) == 1, sentence
    assert supplies("duration", "He was mayor in 2010.") == 0
    assert supplies("date", "He lives at the end of the street.") == 0


def test_an_age_in_decades_and_a_rise_in_multiples_are_numbers():
    assert supplies("number", "The man, in his 40s, was taken to hospital.") == 1
    assert supplies("number", "Prices doubled.") == 1
    assert supplies("number", "Prices rose.") == 0
    assert supplies("count", "The man, in his 40s, was taken to hospital.") == 0


def test_an_age_is_any_number():
    # "How old" is not a count: an age is written "24-year-old" as often as "aged 24".
    assert supplies(answer_type("How old is he?"), "the 24-year-old striker scored twice.") == 1
    assert supplies(answer_type("How old is he?"), "the striker scored twice.") == 0


def test_a_name_must_be_one_the_question_does_not_give():
    question = "What's the name of the NATO official Politico quoted?"
    assert supplies("name", "NATO's Mark Rutte told Politico.", question) == 1
    assert supplies("name", "A NATO official told Politico.", question) == 0
    # Only the capitalised parts of a hyphenated word can be a name; months are not names.
    assert supplies("name", "They move to NATO-compatible Western equipment.", question) == 0
    assert supplies("name", "A NATO official spoke to Politico in March.", question) == 0


def test_a_name_may_open_the_sentence():
    # Issue 16: "Rutte met Zelensky in Kyiv." scored 0 for "Who met Zelensky in Kyiv?".
    assert supplies("name", "Rutte met Zelensky in Kyiv.", "Who met Zelensky in Kyiv?") == 1
    assert supplies("name", "Asante scored the winner.", "Who scored the winner?") == 1
    assert supplies("name", "The leaders met Zelensky.", "Who met Zelensky?") == 0
    assert supplies("name", "He met Zelensky.", "Who met Zelensky?") == 0


def test_a_company_based_somewhere_says_where():
    for sentence in ("Denver-based Kestan Systems said its revenue fell.",
                     "The Munich-based maker of sensors said profit rose."):
        assert supplies("place", sentence, "Where is the company based?") == 1, sentence
    assert supplies("place", "They met in Stoke-on-Trent.", "Where did they meet?") == 1
    assert supplies("place", "The Glasgow-born singer topped the chart.", "Where is she from?") == 1


def test_places_as_news_writes_them():
    for sentence in ("Fighting continued in eastern Ukraine.", "The plant is in south-west London.",
                     "Five of the deaths were in the market town of Llanrwst.",
                     "He was born in the village of Trefriw.",
                     "It fell near the border with Syria.",
                     "They live three miles to the north of Llanrwst."):
        assert supplies("place", sentence, "Where did it happen?") == 1, sentence
    assert supplies("place", "It happened in the middle of June.", "Where did it happen?") == 0
    assert supplies("place", "Fighting went on in eastern Ukraine.",
                    "Where in Ukraine did fighting go on?") == 0


def test_a_place_must_be_one_the_question_does_not_give():
    assert supplies("place", "They met in Kyiv this week.", "Where did they meet?") == 1
    assert supplies("place", "They met in Kyiv.", "Where in Kyiv did they meet?") == 0


def test_lower_cased_text_is_not_vetoed_for_names_it_cannot_show():
    question = "who knocked donald young out in the first round?"
    assert supplies("name", "young lost 6-2 6-1 to robby ginepri in the first round.",
                    question) == 1
    assert supplies("place", "he is staying at mottram hall near manchester.",
                    "where is the squad staying?") == 1
    # Cased text still has to show a name.
    assert supplies("name", "Young lost in the first round.", question) == 0


def test_how_long_something_lasts_is_not_when_it_happens():
    join = answer_type("When will Ukraine officially become a NATO member?")
    assert supplies(join, "Allies plan to support Ukraine for the next decade.") == 0
    assert supplies(join, "Allies plan to admit Ukraine next decade.") == 1


def test_names_the_conversation_already_gave_are_not_the_answer():
    kind = answer_type("Who talked about it in Kyiv?")
    sentence = "By integrating the PURL programme, Kyiv builds an ecosystem."
    assert supplies(kind, sentence, "Who talked about it in Kyiv?") == 1
    assert supplies(kind, sentence, "Who talked about it in Kyiv?",
                    known="What is the PURL programme? Who talked about it in Kyiv?") == 0


@pytest.mark.parametrize("question, answer, other", [
    ("How many tanks have NATO countries sent?", "70 projects aimed at defence [1].", True),
    ("how many seats did the conservatives win?", "163 MPs [1].", True),
    ("how many of the 20 clubs were fined?", "Five players [1].", True),
    ("how many seats did labour win?", "Labour won 301 of them [1].", False),
    ("how many of the 20 clubs were fined?", "Five clubs [1].", False),
    ("how many votes were cast?", "229 to 206 [1].", False),
    ("How many drones can Ukraine produce?", "8 million drones [1].", False),
    ("how many goals has he scored?", "He has scored three goals [1].", False),
    ("how many people died?", "12 civilians [1].", False),  # people: any count of them
    ("How many laptops has Korvo sold?", "120,000 units [1].", False),  # goods: any kind
    ("how many albums did she sell?", "41,200 copies [1].", False),
    ("how many titles has she won?", "She won in 2001 [1].", False),  # no count: not this rule
    ("who won?", "70 projects [1].", False),
    # A share before the count: the count's word is read where it stands in the answer.
    ("how many seats did it win?", "27.8 per cent of the vote and 33 seats [1].", False),
    ("how many seats did it win?", "£1,250,000 spent on 33 seats [1].", False),
])
def test_a_count_of_something_else_is_told_apart(question, answer, other):
    assert counts_other(question, answer) is other


@pytest.mark.parametrize("question, answer, other", [
    ("What share of the vote did Civic Renewal get in 2022?", "35 seats [1].", True),
    ("How many votes did Tomasz Verhoeven get?", "34.2% [1].", True),
    ("How many drones can Russia build in a year?", "Up to $50 billion a year [1].", True),
    ("What share of the vote did it get?", "A third [1].", False),
    ("What percentage of members backed the strike?", "84% [1].", False),
    ("How many goals has he scored?", "He scored twice [1].", False),
    ("How many goals has he scored?", "Three [1].", False),
    # "How big" is a count or a sum: a sum answers it.
    ("How big is the state budget?", "$38 billion [1].", False),
    ("Who won?", "35 seats [1].", False),
])
def test_an_answer_of_another_kind_than_asked_is_told_apart(question, answer, other):
    assert other_kind(question, answer) is other


SEATS = "The Social Alliance came second with 27.8 per cent and 33 seats, a loss of nine."


@pytest.mark.parametrize("question, answer, quote, share", [
    ("How many seats did the Social Alliance win?", "27.8% [1].", SEATS, True),
    ("How many seats did the Social Alliance win?", "$4m [1].", SEATS, True),
    ("How many seats did the Social Alliance win?", "33 seats [1].", SEATS, False),
    # No count of seats to give: a share may be all the article has.
    ("How many seats did it win?", "27.8% [1].", "It won 27.8 per cent.", False),
    ("How many people voted?", "71.6% [1].", "Turnout was 71.6%, or 2,100 people.", False),
    ("What share did it win?", "27.8% [1].", SEATS, False),
])
def test_a_share_given_for_a_count_the_quote_states_is_told_apart(question, answer, quote,
                                                                   share):
    assert share_for_count(question, answer, quote) is share


def test_entities_are_the_capitalised_names_past_the_first_word():
    assert entities("Who is the Swedish PM?") == ["sweden"]  # "PM" is a role, not a name
    assert entities("Did Zelensky meet Rutte in Kyiv?") == ["zelenski", "rutt", "kyiv"]
    assert entities("did zelensky meet rutte?") == []
    # Names open with capitals of other alphabets too, and are searched without accents.
    assert entities("Did Ødegaard score in Łódź?") == ["odegaard", "lodz"]


def test_a_switched_off_answer_type_is_not_asked_for():
    from qa import question

    question.OFF.add("type.count")
    try:
        assert answer_type("How many drones?") is None
    finally:
        question.OFF.clear()


def test_follow_up_borrows_the_previous_question():
    history = [Turn("user", "What is Ukraine's defence production potential?"),
               Turn("assistant", "About $35 billion [1].", [{"article_id": "001"}])]
    result = condense("And how much of that is unfunded?", history)
    assert result.rewritten and "potential" in result.text and "unfunded" in result.text
    assert result.carried_articles == {"001"}


def test_he_or_she_after_an_answer_that_names_someone_searches_for_that_person():
    history = [Turn("user", "Who won the women's race at the Mora Classic?"),
               Turn("assistant", "Åse Lindvik won the women's race [1].")]
    assert "lindvik" in condense("How old is she?", history).text.lower()
    # "it" is not the winner; an answer opening with a pronoun names no one new.
    assert "lindvik" not in condense("Where was it held?", history).text.lower()
    history[-1] = Turn("assistant", "She beat Elene Likhotseva of Russia 7-5 6-4 [1].")
    assert "likhotseva" not in condense("Who is she playing next?", history).text.lower()


def test_a_follow_up_of_a_follow_up_still_asks_about_the_first_answers_subject():
    history = [Turn("user", "Who scored the winner in the Lynx v Harriers derby?"),
               Turn("assistant", "Daniel Okoro scored the winner [1]."),
               Turn("user", "How old is he?"),
               Turn("assistant", "19 [1]."),
               Turn("user", "Where did he join from?"),
               Turn("assistant", "Leeds [1].")]
    # The previous question, "Where did he join from?", borrows what it did when asked.
    text = condense("And who is his manager?", history).text.lower()
    assert "okoro" in text and "lynx" in text and "manager" in text
    # A question that stands alone ends the chain.
    history += [Turn("user", "What does Kestrel Cells make?"), Turn("assistant", "Cells.")]
    assert "okoro" not in condense("Where is it based?", history).text.lower()


def test_standalone_question_is_left_alone():
    history = [Turn("user", "Who is Mark Rutte?")]
    result = condense("How many drones can Ukraine produce each year?", history)
    assert not result.rewritten and not result.follow_up
    # A follow-up leans on the chat even when it borrows no words from it.
    assert condense("How old is he?", history).follow_up
    assert condense("How many?", [Turn("user", "And?")]).follow_up


def test_a_short_question_about_something_new_is_not_a_follow_up():
    history = [Turn("user", "What is NATO's 10-year plan?")]
    assert not condense("What is the population of Lisbon?", history).rewritten
    assert condense("How long is it?", history).rewritten


def test_multi_part_questions_split():
    assert split_question("How many drones can Ukraine make, and which Iranian drones "
                          "does Russia use?") == [
        "How many drones can Ukraine make?", "which Iranian drones does Russia use?"]
    assert split_question("Who met Rutte and Zelensky in Kyiv?") == [
        "Who met Rutte and Zelensky in Kyiv?"]
