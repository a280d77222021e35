"""The fixture sets themselves: a question whose expected answer its article does not hold,
or whose source no ingestion produces, would score the service against a typo."""

import json
from pathlib import Path

import pytest

from qa.eval import correct, load_fixtures
from tests.test_format_rows import BBC, ROOT
from vectorstore.load import load_paths

FIXTURES = ROOT / "tests" / "fixtures"
SETS = sorted(FIXTURES.glob("*.jsonl"))
GATES = sorted((FIXTURES / "gates").glob("*.json"))


def _texts(path: Path) -> dict[str, str]:
    """The articles ingestion would make of ``path``, by id, with the text it would index."""
    return {a.article_id: a.text for result in load_paths([path]).values()
            for a in result.articles}


def test_every_set_loads_with_unique_ids_and_consistent_rows():
    seen: dict[str, str] = {}
    for path in SETS:
        for fx in load_fixtures(path):
            assert fx.id not in seen, f"{fx.id} is in {path.name} and {seen[fx.id]}"
            seen[fx.id] = path.name
            assert fx.question.strip(), fx.id
            if fx.answerable:
                assert fx.answers and fx.sources, fx.id
            else:
                assert fx.answers == [], fx.id
            for turn in fx.history or []:
                assert turn["role"] in ("user", "assistant") and turn["content"].strip(), fx.id
    assert len(seen) >= 500


def test_gates_name_only_sets_that_exist():
    stems = {p.stem for p in SETS}
    for gate in GATES:
        named = json.loads(gate.read_text())
        if all(isinstance(v, dict) for v in named.values()):
            assert set(named) <= stems, gate.name


def test_seed_questions_answers_are_in_their_articles():
    seed_sets = [p for p in SETS if not p.stem.startswith(("bbc-", "yn-", "off-", "genres"))]
    _check(_texts(ROOT / "seeds"), seed_sets)


@pytest.mark.parametrize("name", ["genres", "genres-b", "genres-c"])
def test_genre_questions_answers_are_in_their_articles(name):
    _check(_texts(FIXTURES / name), [FIXTURES / f"{name}.jsonl"])


@pytest.mark.skipif(not BBC.exists(), reason="needs ../shared/data/bbc-news-928.csv")
def test_bbc_questions_answers_are_in_the_articles_ingestion_gives():
    _check(_texts(BBC), [p for p in SETS if p.stem.startswith(("bbc-", "yn-"))])


def _check(texts: dict[str, str], paths: list[Path]) -> None:
    assert paths
    for path in paths:
        for fx in load_fixtures(path):
            missing = [s for s in fx.sources if s not in texts]
            assert not missing, f"{path.name} {fx.id}: no article {missing}"
            if not fx.answerable:
                continue
            # A yes/no question's "yes" or "no" is the reader's; the fact settling it is not.
            terms = [t for t in fx.answers if t.lower() not in ("yes", "no")]
            text = "\n".join(texts[s] for s in fx.sources)
            absent = [t for t in terms if not correct(text, [t])]
            assert not absent, f"{path.name} {fx.id}: {absent} not in {fx.sources}"
