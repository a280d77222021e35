"""Ingesting every format: snapshots replace, feeds accumulate, nothing duplicates."""

import shutil
from pathlib import Path

from tests.test_ingest import make_ingestor

ARTICLES = Path(__file__).parent / "fixtures" / "articles"
RSS_ITEM = ("<item><title>{title}</title><guid>{guid}</guid><link>https://h.example/{guid}"
            "</link><pubDate>{date}</pubDate><description>{text}</description></item>")


def write_feed(path: Path, *items: dict) -> None:
    path.write_text('<rss version="2.0"><channel><title>Herald</title>'
                    + "".join(RSS_ITEM.format(**item) for item in items) + "</channel></rss>")


def item(guid: str, text: str, date: str = "Mon, 15 Jan 2024 08:00:00 GMT") -> dict:
    return {"guid": guid, "title": f"Story {guid}", "date": date, "text": text}


def stored(ingestor) -> dict[str, str]:
    """article_id -> origin, of the current stored version of each article in Chroma"""
    from vectorstore.sync import _latest  # what every worker takes for current

    latest = _latest(ingestor.corpus.records.scan())
    return {aid: v.origin for aid, v in latest.items() if not v.deleted}


def test_a_folder_of_every_format_ingests_once(settings, fake_embedder, tmp_path: Path):
    folder = tmp_path / "news"
    shutil.copytree(ARTICLES, folder)
    ingestor = make_ingestor(settings, fake_embedder)
    first = ingestor.ingest_paths([folder])
    ids = stored(ingestor)
    assert {"page", "briefing", "news/q-101", "news/7", "rates/herald-2024-0412",
            "wires/northwind.example-2024-05-bridge-reopens"} <= set(ids)
    assert "no-article" not in ids and "malformed/2" not in ids
    assert ids["news/q-101"] == str(folder.resolve())  # rows share their folder's origin
    assert ids["rates/herald-2024-0412"] == str((folder / "rates.rss").resolve())  # feeds own
    labels = {r.label for r in first.rejected}
    assert f"{folder / 'malformed.csv'} row 4" in labels
    assert f"{folder / 'no-article.html'}" in labels
    calls = fake_embedder.calls
    again = ingestor.ingest_paths([folder])
    assert fake_embedder.calls == calls  # no embedding work
    assert (again.added, again.removed, again.articles) == (0, 0, first.articles)


def test_a_csv_is_a_snapshot_rows_gone_from_it_are_removed(settings, fake_embedder,
                                                          tmp_path: Path):
    csv = tmp_path / "wire.csv"
    csv.write_text("id,text\na,First story about the harbour.\nb,Second story about tolls.\n")
    ingestor = make_ingestor(settings, fake_embedder)
    ingestor.ingest_paths([csv])
    csv.write_text("id,text\na,First story about the harbour.\nc,\"Third story, new.\"\n")
    report = ingestor.ingest_paths([csv])
    assert set(stored(ingestor)) == {"wire/a", "wire/c"}
    assert report.articles_removed == 1


def test_a_source_with_an_unreadable_row_removes_nothing(settings, fake_embedder,
                                                         tmp_path: Path):
    csv = tmp_path / "wire.csv"
    csv.write_text("id,text\na,First story about the harbour.\nb,Second story about tolls.\n")
    ingestor = make_ingestor(settings, fake_embedder)
    ingestor.ingest_paths([csv])
    csv.write_bytes(b"id,text\na,First story about the harbour.\nb,Second story \xff tolls.\n")
    report = ingestor.ingest_paths([csv])
    assert [r.where for r in report.rejected] == ["row 2"]
    assert set(stored(ingestor)) == {"wire/a", "wire/b"}  # b was not read, so it is kept
    assert report.articles_removed == 0


def test_a_feed_accumulates_adds_new_entries_and_replaces_changed_ones(
        settings, fake_embedder, tmp_path: Path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    feed = folder / "herald.rss"
    write_feed(feed, item("g1", "The rate rose to 4 %."), item("g2", "The bridge reopened."))
    ingestor = make_ingestor(settings, fake_embedder)
    ingestor.ingest_paths([folder])
    # The feed moves on: g1 drops out, g2 is corrected, g3 is new.
    write_feed(feed, item("g2", "The bridge reopened on Friday."),
               item("g3", "The rate rose to 4.75 %.", "Fri, 12 Apr 2024 09:30:00 GMT"))
    calls = fake_embedder.texts
    report = ingestor.ingest_paths([folder])
    assert set(stored(ingestor)) == {"herald/g1", "herald/g2", "herald/g3"}
    assert report.articles_removed == 0
    assert "on Friday" in ingestor.docs.article("herald/g2").text
    assert ingestor.store.count() == ingestor.docs.count_chunks() == 3  # no duplicates
    assert fake_embedder.texts - calls == 4  # the new and the changed entry, and titles
    again = ingestor.ingest_paths([feed])
    assert (again.added, again.removed) == (0, 0)
