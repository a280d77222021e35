from pathlib import Path

import pytest

from vectorstore.article import Article
from vectorstore.chunk import MAX_SENTENCE_CHARS, chunk_article, split_sentences
from vectorstore.load import load_paths


def spans(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_sentences_keep_offsets_and_respect_abbreviations():
    text = "Mr. Smith met Dr. Jones in the U.S. on Monday. It cost $3.5 billion! Was it?"
    assert spans(text) == [
        "Mr. Smith met Dr. Jones in the U.S. on Monday.",
        "It cost $3.5 billion!",
        "Was it?",
    ]


def test_lines_never_join_and_quotes_stay_with_their_sentence():
    text = "**Heading**\n“We must lead,” he said. “Please invest.”\nNext line"
    assert spans(text) == ["**Heading**", "“We must lead,” he said.", "“Please invest.”",
                           "Next line"]


def test_lower_case_text_still_splits():
    assert spans("the match ended. fans left early.") == ["the match ended.", "fans left early."]


def test_over_long_sentences_are_wrapped():
    text = "word " * 400
    pieces = split_sentences(text)
    assert len(pieces) > 1
    assert all(b - a <= MAX_SENTENCE_CHARS for a, b in pieces)


@pytest.fixture(scope="module")
def seeds() -> list[Article]:
    [result] = load_paths([Path("seeds")]).values()
    return result.articles


def test_chunks_point_at_their_text_in_the_article(seeds):
    for article in seeds:
        chunks = chunk_article(article, 350)
        assert [c.chunk_id for c in chunks] == [f"{article.article_id}:{i}"
                                                for i in range(len(chunks))]
        for c in chunks:
            assert article.text[c.start : c.end] == c.text
            for a, b in c.sentences:
                assert c.start <= a < b <= c.end
        # Sentences are never split between chunks and every sentence lands in one.
        assert sum(len(c.sentences) for c in chunks) == len(split_sentences(article.text))


def test_chunks_stay_near_the_target_size(seeds):
    for article in seeds:
        for c in chunk_article(article, 350):
            assert len(c.text) <= 350 or len(c.sentences) == 1


def test_chunk_hash_changes_with_text_and_the_chunk_carries_the_title(seeds):
    article = seeds[1]
    [first] = [c for c in chunk_article(article) if "$35 billion" in c.text]
    changed = Article(article.article_id, article.title, article.text.replace("$35", "$36"))
    assert chunk_article(changed)[first.n].content_hash != first.content_hash
    assert first.title == article.title
