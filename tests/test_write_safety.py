"""No interleaving of writes leaves an article listed without its vectors, or vectors without
their article (issue 14, item 1).

One ``POST /articles`` is paused between its vector writes and its commit while a second
POST and a DELETE run: in one process, and in two apps sharing one Chroma server (as two
worker processes do). The assertions use only what the 0.3.0 code also had, so the same
file fails against it.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from app import create_app
from tests.fakes import FakeEmbedder
from tests.servers import start_chroma, stop
from vectorstore.chunk import chunk_article
from vectorstore.load import article_from_text

PAUSED = "paused_story"
OTHER = "other_story"


def text(token: str) -> str:
    return (f"The {token} bridge opens\n\nThe {token} bridge opened on Monday. Engineers said "
            f"the {token} bridge carries 4,000 cars a day across the river.")


class Pause:
    """Holds the first vector write of one article until released."""

    def __init__(self, service, article_id: str):
        self.reached, self.release = threading.Event(), threading.Event()
        store = service.store
        original = store.upsert

        def upsert(*args, **kwargs):
            result = original(*args, **kwargs)
            ids = [getattr(x, "chunk_id", x) for x in (args[0] if args else kwargs["ids"])]
            if any(i.startswith(f"{article_id}:") for i in ids) and not self.reached.is_set():
                self.reached.set()
                assert self.release.wait(30), "never released"
            return result

        store.upsert = upsert


def run(target, *args, **kwargs) -> tuple[threading.Thread, dict]:
    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(r=target(*args, **kwargs)),
                              daemon=True)
    thread.start()
    return thread, out


def whole(app, article_id: str, body: str) -> tuple[bool, int, int]:
    """Return (listed, vectors stored, vectors it needs)."""
    service = app.extensions["qa"]
    listed = app.test_client().get(f"/articles/{article_id}").status_code == 200
    needed = len(chunk_article(article_from_text(article_id, body),
                               service.settings.chunk_chars))
    return listed, len(service.store.ids_of(article_id)), needed


def assert_whole_or_gone(app, article_id: str, body: str) -> bool:
    listed, have, needed = whole(app, article_id, body)
    assert (listed and have == needed) or (not listed and have == 0), (
        f"{article_id}: listed={listed} with {have} of {needed} vectors")
    return listed


def catch_up(app) -> None:
    """What a worker's sync thread does every few seconds (absent before scale-out)."""
    corpus = getattr(app.extensions["qa"], "corpus", None)
    if corpus is not None:
        corpus.ready()
        corpus.syncer.poll()


def consistent(app) -> None:
    try:
        from vectorstore.check import check
    except ImportError:  # before issue 14 there was no check
        return
    report = check(app.extensions["qa"].corpus)
    assert report.ok, "\n".join(report.lines())


def test_a_paused_post_with_a_post_and_a_delete_in_the_gap_in_one_process(settings):
    app = create_app(settings, embedder_factory=FakeEmbedder)
    client = app.test_client()
    try:
        assert client.get("/articles").status_code == 200  # seeded
        pause = Pause(app.extensions["qa"], PAUSED)
        first, _ = run(client.post, "/articles", json={"article_id": PAUSED, "text": text("a")})
        assert pause.reached.wait(30)
        second, _ = run(client.post, "/articles", json={"article_id": OTHER, "text": text("b")})
        delete, deleted = run(client.delete, f"/articles/{PAUSED}")
        # In one process the other writes wait for the paused one (they may not finish).
        second.join(1)
        delete.join(1)
        pause.release.set()
        for thread in (first, second, delete):
            thread.join(30)
            assert not thread.is_alive()
        assert deleted["r"].status_code in (200, 404)
        listed = assert_whole_or_gone(app, PAUSED, text("a"))
        # The DELETE was asked while the POST was running: it comes after it, and wins.
        assert not listed and deleted["r"].status_code == 200
        assert assert_whole_or_gone(app, OTHER, text("b"))
        consistent(app)
    finally:
        app.extensions["qa"].close()


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    proc, port = start_chroma(tmp_path_factory.mktemp("chroma"))
    yield port
    stop(proc)


@pytest.mark.parametrize("data_dirs", ["separate", "shared"])
def test_a_paused_post_with_a_post_and_a_delete_in_another_process(chroma, settings, tmp_path,
                                                                    data_dirs):
    collection = f"safety_{uuid.uuid4().hex[:8]}"
    shared = settings.replace(chroma_host="127.0.0.1", chroma_port=chroma,
                              collection=collection)
    one = create_app(shared, embedder_factory=FakeEmbedder)
    two = create_app(shared if data_dirs == "shared" else
                     shared.replace(data_dir=tmp_path / "other-worker"),
                     embedder_factory=FakeEmbedder)
    a, b = one.test_client(), two.test_client()
    try:
        assert a.get("/articles").status_code == 200  # seeded
        assert a.post("/articles", json={"article_id": PAUSED, "text": text("v1")}).status_code \
            == 201
        catch_up(two)
        pause = Pause(one.extensions["qa"], PAUSED)
        first, posted = run(a.post, "/articles", json={"article_id": PAUSED, "text": text("v2")})
        assert pause.reached.wait(30)
        # The other process does not wait: both its writes finish inside the gap.
        assert b.post("/articles", json={"article_id": OTHER, "text": text("b")}).status_code \
            == 201
        assert b.delete(f"/articles/{PAUSED}").status_code == 200
        pause.release.set()
        first.join(30)
        assert not first.is_alive() and posted["r"].status_code in (200, 201)
        for app in (one, two):
            catch_up(app)
            # The delete was the later intent: the paused write must not bring it back.
            assert not assert_whole_or_gone(app, PAUSED, text("v2"))
            assert assert_whole_or_gone(app, OTHER, text("b"))
            consistent(app)
    finally:
        one.extensions["qa"].close()
        two.extensions["qa"].close()
