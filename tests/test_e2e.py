"""End to end with the real MiniLM model and a real embedded Chroma store."""

import pytest

from qa.cite import citation_problems

pytestmark = pytest.mark.slow
DRONES = "001_757337abefd0f303"


@pytest.fixture
def client(real_app):
    return real_app.test_client()


def ask(client, question, **extra):
    r = client.post("/ask", json={"question": question, **extra})
    assert r.status_code == 200
    body = r.get_json()
    text = lambda aid: client.get(f"/articles/{aid}").get_json()["text"]  # noqa: E731
    assert citation_problems(body["answer"], body["citations"], text) == []
    return body


def test_drones_question_cites_the_right_quote(client):
    body = ask(client, "How many drones can Ukraine produce each year?")
    assert "8 million" in body["answer"] and not body["abstained"]
    assert body["citations"][0]["article_id"] == DRONES
    article = client.get(f"/articles/{DRONES}").get_json()["text"]
    c = body["citations"][0]
    assert article[c["start"] : c["end"]] == c["quote"] and "8 million" in c["quote"]


def test_unanswerable_question_abstains(client):
    body = ask(client, "What is the population of Lisbon?")
    assert body["abstained"] is True and "don't" in body["answer"]


@pytest.mark.parametrize(
    ("question", "expected", "source"),
    [
        ("What share of Ukraine's defence production capacity lacks funding?", "40%", DRONES),
        ("Where did Zelensky sit down with NATO's secretary general to talk air defence?",
         "Kyiv", "000_ded72c6294d8a96e"),
        ("Which company will train Ukrainian aircraft maintenance specialists?", "Airbus",
         DRONES),
        ("How much does Ukraine want to put into its own arms industry annually?",
         "$50 billion", "000_ded72c6294d8a96e"),
    ],
)
def test_paraphrased_facts(client, question, expected, source):
    body = ask(client, question)
    assert expected in body["answer"]
    assert source in {c["article_id"] for c in body["citations"]}


def test_follow_up_with_history(client):
    body = ask(client, "And how much of that is unfunded?", history=[
        {"role": "user", "content": "What is Ukraine's defence production potential?"},
        {"role": "assistant", "content": "Nearly $35 billion [1]."},
    ])
    assert "40%" in body["answer"]
