import pytest

from qa.condense import Turn, condense
from qa.decompose import split_question
from qa.question import Role, answer_type, entities, supplies


@pytest.mark.parametrize(
    ("question", "kind", "counted"),
    [
        ("How many drones can Ukraine produce a year?", "count", "drone"),
        ("How many Ukrainian specialists will Airbus train?", "count", "specialist"),
        ("What percentage of the potential is unfunded?", "percent", None),
        ("How much money does Ukraine plan to invest?", "money", None),
        ("When is the first meeting?", "date", None),
        ("Where did they meet?", "place", None),
        ("Who announced the agreement?", "name", None),
        ("Why does Russia object?", None, None),
        ("What is NATO's total budget?", "money", None),
        ("What is the population of Lisbon?", "count", None),
        ("Which country chairs the contact group?", "country", None),
        ("What's the name of the senior NATO official Politico quoted?", "person", None),
        ("What's the name of the Iranian-built drones Russia uses?", "name", None),
        ("Who wrote the piece on Turkey?", "author", None),
        ("who took the photo used in the plan story?", "photographer", None),
    ],
)
def test_answer_type(question, kind, counted):
    found = answer_type(question)
    assert (found.kind, found.counted) == (kind, counted)


def test_a_count_must_stand_by_its_noun():
    kind = answer_type("How many tanks did Germany send?")
    assert supplies(kind, "Allies sent tanks, artillery and 70 projects.") == 0
    assert supplies(kind, "Germany sent 14 tanks.") == 2


def test_money_needs_a_currency_and_time_must_agree():
    assert supplies(answer_type("How much money is paid?"), "It makes 8 million drones.") == 0
    assert supplies(answer_type("How much money is paid?"), "It costs $8 million.") == 1
    last_year = answer_type("How many drones did Ukraine make last year?")
    assert supplies(last_year, "It can make 8 million drones each year.") == 0


def test_a_count_is_not_a_year_a_sum_a_share_an_ordinal_or_a_modifier():
    troops = answer_type("How many troops does Ukraine's army have?")
    for sentence in ("NATO has a 10-year plan to rebuild Ukraine's army.",
                     "The first meeting on the army is in 2025.",
                     "Nearly $35 billion is needed, and 40% of it is unfunded."):
        assert supplies(troops, sentence) == 0, sentence
    assert supplies(troops, "The army has 900,000 soldiers.") == 1
    plan = answer_type("How many years does the plan cover?")
    assert supplies(plan, "NATO has a 10-year plan.") == 2  # by the noun it still counts


def test_who_and_which_country_need_an_answer_the_question_does_not_name():
    country = answer_type("Which country chairs the Ukraine Defense Contact Group?")
    assert supplies(country, "Allies met in Brussels in the Ukraine Defense Contact Group.",
                    "Which country chairs the Ukraine Defense Contact Group?") == 0
    assert supplies(country, "Germany chairs the group.", "Which country chairs the group?") == 1
    question = "What's the name of the NATO official Politico quoted?"
    person = answer_type(question)
    assert supplies(person, "“We will get Ukraine ready,” a NATO official told Politico.",
                    question) == 0
    assert supplies(person, "NATO's Mark Rutte told Politico.", question) == 1
    # Only the capitalised parts of a hyphenated word can be a name.
    assert supplies(person, "They move to NATO-compatible Western equipment.", question) == 0


def test_only_a_credit_line_says_who_wrote_a_story_or_took_its_photo():
    author = answer_type("Who wrote the piece on Turkey?")
    assert supplies(author, "Author: Dave DeCamp") == 2
    assert supplies(author, "Dave DeCamp is the news editor.") == 0
    photo = answer_type("Who took the photo?")
    assert supplies(photo, "Image Credits: Omar Havana/Getty Images.") == 2
    assert supplies(photo, "Author: Dave DeCamp") == 0


def test_a_date_still_to_come_needs_a_sentence_that_looks_ahead():
    join = answer_type("When will Ukraine become a NATO member?")
    assert supplies(join, "Officials held a meeting this month.") == 0
    assert supplies(join, "Ukraine is expected to join in 2030.") == 1
    due = answer_type("When is the first session due to take place?")
    assert supplies(due, "The first meeting is to be held next week.") == 1
    assert supplies(answer_type("When did they meet?"), "They met this month.") == 1


def test_someone_before_a_named_person_needs_a_sentence_that_orders_them():
    question = "Who was NATO secretary general before Rutte?"
    before = answer_type(question)
    assert supplies(before, "Zelensky and NATO Secretary General Mark Rutte met.", question) == 0
    assert supplies(before, "Rutte replaced Jens Stoltenberg as secretary general.",
                    question) == 1


def test_the_day_a_story_was_reported_does_not_date_the_event():
    when = answer_type("When does the spending begin?")
    assert supplies(when, "NATO has a plan, Politico reported on Wednesday.") == 0
    assert supplies(when, "The spending begins on Wednesday, Politico reported.") == 1


def test_the_week_a_quote_was_said_does_not_time_what_was_said():
    next_year = answer_type("How much does Ukraine need to close next year's budget gap?")
    assert supplies(next_year, "This week Zelensky said Ukraine needs $38 billion for the "
                    "deficit next year.") == 1
    assert supplies(next_year, "Ukraine needs $38 billion this week.") == 0


def test_how_long_something_lasts_is_not_when_it_happens():
    join = answer_type("When will Ukraine officially become a NATO member?")
    assert supplies(join, "Allies plan to support Ukraine for the next decade.") == 0
    assert supplies(join, "Allies plan to admit Ukraine next decade.") == 1


def test_a_date_for_another_occasion_does_not_answer_when_something_begins():
    begin = answer_type("And when is that spending supposed to begin?")
    assert supplies(begin, "The first meeting on the plan is set to be held next week.") == 0
    assert supplies(begin, "The spending is set to begin next year.") == 1
    # A paraphrase without an occasion of its own still answers.
    join = answer_type("When will Ukraine become a NATO member?")
    assert supplies(join, "Ukraine is expected to join in 2030.") == 1


def test_a_role_with_a_modifier_needs_that_modifier():
    question = "Who is the finance minister in Norway's government?"
    finance = answer_type(question)
    assert finance.roles == (Role("minist", "financ", "norway"),)
    assert supplies(finance, "Norwegian Prime Minister Jonas Gahr Store attended.",
                    question) == 0
    assert supplies(finance, "Norway's finance minister Jens Stoltenberg spoke.", question) == 1
    assert supplies(finance, "Jens Stoltenberg, minister of finance, spoke.", question) == 1
    assert supplies(finance, "Sweden's minister of finance Elisabeth Svantesson spoke.",
                    question) == 0
    # A country or an acronym before the role is a name, checked elsewhere, not a modifier.
    assert answer_type("Who is the Swedish minister?").roles == (Role("minist", None, "sweden"),)
    assert answer_type("Who is NATO's secretary general?").roles == (Role("secretari"),)


def test_a_role_needs_a_sentence_naming_it_and_pm_is_prime_minister():
    question = "What's the name of the Italian PM who was at the meeting?"
    pm = answer_type(question)
    assert pm.kind == "person" and pm.roles == (Role("minist", "prime", "itali"),)
    assert supplies(pm, "Zelensky met leaders of Germany, Italy and Poland, and Mark Rutte.",
                    question) == 0
    # Another country's prime minister is not the one asked about.
    assert supplies(pm, "Danish Prime Minister Mette Frederiksen attended.", question) == 0
    assert supplies(pm, "Italian Prime Minister Giorgia Meloni attended.", question) == 1
    assert supplies(pm, "Italy's PM Giorgia Meloni attended.", question) == 1
    # Of two roles asked about, a sentence naming either may answer.
    both = answer_type("Name the British PM who signed and the Norwegian PM who met him.")
    assert supplies(both, "Norwegian Prime Minister Jonas Gahr Store met him.") == 1
    # "PM" is a role, not a name the article must contain.
    assert entities("Who is the Swedish PM?") == ["sweden"]


def test_kinds_of_a_noun_prefer_sentences_that_name_it():
    kinds = answer_type("What kinds of sanctions did Zelensky call for?")
    assert kinds.kind is None and kinds.noun == "sanction"
    assert supplies(kinds, "He wants energy and banking sanctions.") == 2
    assert supplies(kinds, "Zelensky's call to action serves as a reminder.") == 1


def test_follow_up_borrows_the_previous_question():
    history = [Turn("user", "What is Ukraine's defence production potential?"),
               Turn("assistant", "About $35 billion [1].", [{"article_id": "001"}])]
    result = condense("And how much of that is unfunded?", history)
    assert result.rewritten and "potential" in result.text and "unfunded" in result.text
    assert result.carried_articles == {"001"}


def test_standalone_question_is_left_alone():
    history = [Turn("user", "Who is Mark Rutte?")]
    result = condense("How many drones can Ukraine produce each year?", history)
    assert not result.rewritten


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


def test_a_company_asked_for_is_not_a_country():
    question = "Which Chinese companies did Zelensky name as helping Russia?"
    org = answer_type(question)
    assert org.kind == "org"
    assert supplies(org, "Russia is backed by North Korea, Iran and Chinese companies.",
                    question) == 0
    assert supplies(org, "He named Chinese firms such as Huawei.", question) == 1


def test_another_countrys_figure_does_not_answer_for_the_country_asked_about():
    question = "How much military aid has Germany given Ukraine?"
    money = answer_type(question)
    assert supplies(money, "The US alone has given Ukraine over $15 billion.", question) == 0
    assert supplies(money, "Germany has given Ukraine $5 billion.", question) == 1
    assert supplies(money, "Germany and the US gave Ukraine $5 billion.", question) == 1


def test_a_figure_the_question_gives_does_not_answer_it():
    question = "How much of the planned $50 billion a year will allies pay?"
    money = answer_type(question)
    assert supplies(money, "Ukraine plans to invest up to $50 billion per year.", question) == 0
    assert supplies(money, "Allies will pay $20 billion a year of the $50 billion.",
                    question) == 1


def test_names_the_conversation_already_gave_are_not_the_answer():
    kind = answer_type("Who talked about it in Kyiv?")
    sentence = "By integrating the PURL programme, Kyiv builds an ecosystem."
    assert supplies(kind, sentence, "Who talked about it in Kyiv?") == 1
    assert supplies(kind, sentence, "Who talked about it in Kyiv?",
                    known="What is the PURL programme? Who talked about it in Kyiv?") == 0


def test_the_next_occasion_needs_a_sentence_that_looks_ahead():
    host = answer_type("Which country is hosting the NATO summit after the one in The Hague?")
    assert host.needs == "ahead"
    assert supplies(host, "During the summit in The Hague, Russia's attacks went on.",
                    "Which country is hosting the NATO summit after the one in The Hague?") == 0
    assert supplies(host, "Turkey will host the next summit.",
                    "Which country is hosting the NATO summit after the one in The Hague?") == 1
    # "Next week" looks ahead, but it dates a meeting, not the summit asked about.
    summit = answer_type("When is the next NATO summit?")
    assert supplies(summit, "The first meeting on the plan is set to be held next week.") == 0
    assert supplies(summit, "The next summit will be held in July.") == 1


def test_a_day_of_the_week_needs_a_weekday_and_a_reports_day_is_its_date():
    question = "What day of the week did Politico publish its story on the plan?"
    day = answer_type(question)
    assert supplies(day, "The first meeting on the plan is set to be held next week.") == 0
    assert supplies(day, "NATO has a plan, Politico reported on Wednesday.") == 1
    # When the event asked about is not the report, the report's day still does not date it.
    assert supplies(answer_type("What day of the week do the talks begin?"),
                    "NATO has a plan, Politico reported on Wednesday.") == 0


def test_a_rate_per_month_is_not_a_rate_per_year():
    monthly = answer_type("How many drones does Ukraine build per month?")
    assert supplies(monthly, "Ukraine can produce 8 million drones each year.") == 0
    assert supplies(monthly, "Ukraine builds 200,000 drones a month.") == 2  # by the noun
    assert supplies(answer_type("How many drones does Ukraine make annually?"),
                    "Ukraine can produce 8 million drones each year.") == 2
