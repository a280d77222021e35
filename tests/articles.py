"""Add articles through the API, for tests that need a corpus of their own."""

from __future__ import annotations


def post_articles(app, title: str, texts: dict[str, str]) -> None:
    """Add each article (id -> text) under ``title``."""
    for article_id, text in texts.items():
        posted = app.test_client().post("/articles", json={
            "article_id": article_id, "title": title, "text": text})
        assert posted.status_code == 201, posted.get_json()


# One article about two films: the first paragraphs are The Salt Road's, the last Glass
# Harbour's, far enough from any mention of The Salt Road (more than NEAR characters).
AWARDS = (
    "The Salt Road won five prizes at the Lisbon Screen Awards on Saturday night, including "
    "best film and best director. The Portuguese-Moroccan drama follows a family of salt "
    "farmers on the Atlantic coast over one hard summer. Its director thanked her crew for "
    "walking into the sea every morning at four o'clock, and dedicated the award to her "
    "late father. The jury praised its patient camera and its cast of non-professional "
    "actors, most of them from the village where it was filmed. It opens across Portugal "
    "next month and in France in the spring, and has been sold to distributors in eleven "
    "countries.\n\nThe evening's other favourite, the Danish thriller Glass Harbour, arrived "
    "with nine nominations but went home empty-handed. The thriller follows a harbour pilot "
    "who finds a drowned man on her boat. It cost about 3.2 million euros to make.")


# A lede that tells of someone before naming them in the next sentence.
FRAUD = ("A former finance director of Ashby District Council has been jailed for six years "
         "for stealing £2.3m from the authority. Derek Fowler, 58, of Coalville, admitted fraud "
         "by abuse of position at Leicester Crown Court in October. ") + (
         "The court heard how the scheme ran for a decade without anyone noticing it. " * 8)

