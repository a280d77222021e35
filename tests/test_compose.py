"""The extractive answerer's decisions, on hand-made candidates (no model involved)."""

import numpy as np

from qa.compose import Candidate, ExtractiveAnswerer, Weights, rerank
from qa.retrieve import Passage, Query
from tests.articles import FRAUD
from vectorstore.article import Article
from vectorstore.docstore import StoredChunk

TEXT = "Ukraine can make 8 million drones a year. Rutte met Zelensky in Kyiv."


def chunk(cid: str, article: str = "a") -> StoredChunk:
    return StoredChunk(cid, article, "Title", 0, len(TEXT), TEXT, ((0, 41), (42, 70)))


def cand(cid: str, score: float, fit: int = 1, ask: float = 0.5, start: int = 0) -> Candidate:
    c = Candidate(chunk(cid), start, start + 10, TEXT[start : start + 10], 0, fit=fit, ask=ask)
    c.score = score
    return c


def test_admits_needs_the_right_kind_and_the_asked_words():
    weights = Weights(min_ask=0.2)
    assert weights.admits(cand("a:0", 1.0))
    assert not weights.admits(cand("a:0", 1.0, fit=0))
    assert not weights.admits(cand("a:0", 1.0, ask=0.1))


def test_rerank_orders_passages_by_their_best_admissible_sentence():
    passages = [Passage(chunk(cid), 0.0) for cid in ("a:0", "b:0", "c:0")]
    scored = [cand("a:0", 0.4), cand("b:0", 0.9, fit=0), cand("b:0", 0.5), cand("c:0", 0.7)]
    order = [p.chunk_id for p in rerank(passages, scored, Weights())]
    # b's 0.9 sentence cannot answer, so b ranks by its 0.5 one.
    assert order == ["c:0", "b:0", "a:0"]


class StubDocs:
    def document_frequencies(self, terms):
        return {}, 10

    def version(self):
        return 1

    def article(self, article_id):
        return None


class StubEmbedder:
    """Texts holding ``word`` point the same way as the query [1, 0]; others do not."""

    def __init__(self, word: str = "drones"):
        self.word = word

    def embed_documents(self, texts):
        return np.array([[1.0, 0.0] if self.word in t else [0.0, 1.0] for t in texts])


def test_answer_quotes_the_best_sentence_with_exact_offsets():
    answerer = ExtractiveAnswerer(StubEmbedder(), StubDocs(),
                                  Weights(dense=1.0, passage=0, coverage=0, threshold=0.5))
    query = Query("How many drones can Ukraine make?", np.array([1.0, 0.0]), ["drone"])
    claims, abstained = answerer.answer(query, [Passage(chunk("a:0"), 1.0)])
    assert not abstained
    [claim] = claims
    [ev] = claim.evidence
    assert TEXT[ev.start : ev.end] == ev.quote == "Ukraine can make 8 million drones a year."


def test_answer_abstains_when_no_sentence_reaches_the_threshold():
    answerer = ExtractiveAnswerer(StubEmbedder(), StubDocs(),
                                  Weights(dense=1.0, passage=0, coverage=0, threshold=0.5))
    query = Query("Who chairs the group?", np.array([0.0, 0.0]), ["chair", "group"])
    claims, abstained = answerer.answer(query, [Passage(chunk("a:0"), 1.0)])
    assert abstained and claims[0].evidence == []


def test_answer_type_comes_from_the_question_as_asked_not_borrowed_context():
    answerer = ExtractiveAnswerer(StubEmbedder(), StubDocs(), Weights())
    text = "They should dedicate 0.25% of GDP to Ukraine."
    passage = Passage(StoredChunk("a:0", "a", "T", 0, len(text), text, ((0, len(text)),)), 1.0)
    # "spend" was borrowed from the previous turn; "how much" alone asks for an amount.
    rewritten = Query("How much should go to Ukraine? (allies spend defence)",
                      np.array([1.0, 0.0]), ["go", "ukrain", "alli", "spend", "defenc"],
                      asked="How much should go to Ukraine?")
    [cand] = answerer.candidates(rewritten, [passage])
    assert cand.fit == 1
    as_money = Query(rewritten.text, rewritten.vector, rewritten.terms)
    assert answerer.candidates(as_money, [passage])[0].fit == 0


class ArticleDocs(StubDocs):
    def article(self, article_id):
        return Article(article_id, "Title", "Air defense tops the Ukrainian wish list.")


def test_mentions_is_the_share_of_the_questions_names_its_article_gives():
    answerer = ExtractiveAnswerer(StubEmbedder(), ArticleDocs())
    # "Ukrainian" is indexed as Ukraine; Moscow is not in the article.
    assert answerer._mentions("a", ["ukrain", "moscow"], 1) == 0.5
    assert answerer._mentions("a", [], 1) == 1.0


class FraudDocs(StubDocs):
    def article(self, article_id):
        return Article(article_id, "Finance chief jailed", FRAUD)


def test_a_lede_that_names_its_subject_next_is_focused_a_later_sentence_is_not():
    answerer = ExtractiveAnswerer(StubEmbedder(), FraudDocs(), Weights())
    lede = FRAUD.index("authority.") + len("authority.")
    later = FRAUD.rindex("The court heard")
    passage = Passage(StoredChunk("a:0", "a", "Finance chief jailed", 0, len(FRAUD), FRAUD,
                                  ((0, lede), (later, len(FRAUD) - 1))), 1.0)
    query = Query("How much did Derek Fowler steal?", np.array([1.0, 0.0]),
                  ["derek", "fowler", "steal"])
    focused = [c.focused for c in answerer.candidates(query, [passage])]
    assert focused == [True, False]

