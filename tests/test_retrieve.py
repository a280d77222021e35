"""Retrieval over real Chroma with the fake embedder; the unique token cannot match by chance."""

import pytest

from vectorstore.terms import terms

TOKEN = "quandrilex"


@pytest.fixture
def service(app, seeds_dir):
    (seeds_dir / "900_token.txt").write_text(
        "Harbour lights festival\nThe council approved the quandrilex bridge on Tuesday."
    )
    (seeds_dir / "901_accents.txt").write_text(
        "Derby in Malmö\nZlatan Ibrahimović scored twice as Malmö beat Göteborg 3-1 in front"
        " of 22,000 fans at the Eleda Stadion on Sunday.")
    svc = app.extensions["qa"]
    svc.ensure_seeded()
    return svc


def test_keyword_search_finds_a_unique_token(service):
    hits = service.docs.search([TOKEN], 5)
    assert [cid.split(":")[0] for cid, _ in hits] == ["900_token"]


def test_hybrid_search_ranks_the_token_article_first(service):
    [top, *_] = service.search(f"What did the council approve about the {TOKEN} bridge?", 5)
    assert top.article_id == "900_token"
    assert TOKEN in top.chunk.text


def test_passages_carry_title_and_offsets(service):
    for passage in service.search("NATO 10-year plan to rebuild Ukraine's military", 5):
        article = service.docs.article(passage.article_id)
        chunk = passage.chunk
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert chunk.title == article.title


def test_same_story_copies_are_grouped_not_repeated(service):
    passages = service.search(
        "defense planning requirements to get Ukraine fully interoperable with NATO", 8
    )
    story = {"002_9bafd4e5a807f6bb", "004_57dd90c7a496a4fa"}
    top = passages[0]
    assert top.article_id in story
    assert {c.article_id for c in top.copies} == story - {top.article_id}
    # The copy does not take a second top slot of its own.
    copy_ids = {c.chunk_id for c in top.copies}
    assert not copy_ids & {p.chunk_id for p in passages}


def test_a_country_and_its_demonym_are_one_search_term(service):
    # The seeds say "Danish Prime Minister"; a reader asks about Denmark.
    assert terms("Danish") == terms("Denmark") == terms("the Danes")
    assert terms("Ukrainian forces")[0] == terms("Ukraine's")[0]
    hits = service.docs.search(terms("Denmark's prime minister Frederiksen"), 5)
    assert hits and any("Danish Prime Minister" in c.text
                        for c in service.docs.chunks([cid for cid, _ in hits]).values())


def test_a_name_typed_without_its_accents_is_the_same_search_term(service):
    assert terms("Ibrahimović Malmö Łódź Øresund Straße") == terms(
        "Ibrahimovic Malmo Lodz Oresund Strasse")
    assert terms("Москва") == ["москва"]  # other scripts' letters are left as they are
    hits = service.docs.search(terms("ibrahimovic malmo"), 5)
    assert hits[0][0].startswith("901_accents")


def test_a_question_typed_without_accents_is_answered_from_the_accented_article(app, service):
    reply = app.test_client().post(
        "/ask", json={"question": "How many fans watched Ibrahimovic score in Malmo?"})
    data = reply.get_json()
    assert data["abstained"] is False, data
    assert data["citations"][0]["article_id"] == "901_accents"
    assert "Ibrahimović scored twice" in data["citations"][0]["quote"]


def test_a_british_spelling_is_the_same_search_term_as_the_american_one():
    assert terms("the 13.4-kilometre tunnel, the centre, Labour's defence programme") == terms(
        "the 13.4 kilometers tunnel, the center, Labor's defense program")


def test_reports_from_one_template_are_not_copies_for_a_question_naming_one():
    """The same story told twice is folded into one passage, but two reports that differ
    only where the question points (a name, a figure) stay apart (found by bench.stress:
    "the <token> bridge carries N cars" articles cited each other's figures)."""
    from qa.retrieve import Passage, group_copies
    from vectorstore.docstore import StoredChunk

    def passage(article_id: str, name: str) -> Passage:
        text = (f"The {name} bridge opened on Monday. Engineers said the {name} bridge "
                "carries 4,000 cars a day across the river.")
        return Passage(StoredChunk(f"{article_id}:0", article_id, "Bridge", 0, len(text),
                                   text, ((0, len(text)),)), 1.0)

    same_story = [passage("a", "harbour"), passage("b", "harbour")]
    assert [p.article_id for p in group_copies(same_story, set(terms("harbour bridge")))] \
        == ["a"]
    template = [passage("a", "qxalpha"), passage("b", "qxbravo")]
    kept = group_copies(template, set(terms("how many cars cross the qxbravo bridge?")))
    assert [p.article_id for p in kept] == ["a", "b"] and not kept[0].copies
    assert [p.article_id for p in group_copies(template)] == ["a"]  # no question: one story
