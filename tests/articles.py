"""Add articles through the API, for tests that need a corpus of their own."""

from __future__ import annotations


def post_articles(app, title: str, texts: dict[str, str]) -> None:
    """Add each article (id -> text) under ``title``."""
    for article_id, text in texts.items():
        posted = app.test_client().post("/articles", json={
            "article_id": article_id, "title": title, "text": text})
        assert posted.status_code == 201, posted.get_json()
