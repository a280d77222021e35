"""Keep this worker's cache in step with Chroma: rebuild it, reconcile it, poll for changes.

Why polling: Chroma has no change feed or notifications, and the workers share nothing
but the Chroma server, so a worker must ask. Every article record carries the time it
was committed, so "what was committed since my last look" is one range query on an
indexed integer, which costs next to nothing when nothing changed. Each worker asks every
``QA_SYNC_INTERVAL_S`` (and at once when a request finds a passage whose article changed);
a change made anywhere is served everywhere within that interval. Each look reaches back a
margin before the last one, to catch commits that were slow to land or stamped by a clock
a little behind ours; applying a version twice is a no-op, since the cache keeps the stamp
of what it holds. A full reconcile at start-up catches what a stopped worker missed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from qa.errors import StoreError
from vectorstore.chunk import CHUNKER_VERSION, chunk_article
from vectorstore.docstore import Entry
from vectorstore.records import Version

log = logging.getLogger(__name__)
APPLY_BATCH = 200  # articles fetched and indexed per cache transaction
# Seconds each poll reaches back before the previous one: commits can land up to a request
# timeout after they were stamped, and machines' clocks differ a little.
MARGIN_S = 30.0


@dataclass
class SyncReport:
    applied: int = 0
    removed: int = 0
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.applied or self.removed)


class Syncer:
    """Brings the corpus' cache up to date; runs a polling thread once started."""

    def __init__(self, corpus, interval_s: float):
        self.corpus = corpus
        self.interval_s = interval_s
        self.margin_ms = int((MARGIN_S + 2 * (corpus.client.timeout_s or 0)) * 1000)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one sync at a time
        self._failing = False
        self._warned = False

    # -- the three ways to catch up ----------------------------------------------------

    def rebuild(self) -> SyncReport:
        """Build the cache from nothing (a new worker, or a cache of another store)."""
        cache = self.corpus.cache
        with self._lock:
            started = time.perf_counter()
            cache.set_meta("store", "")
            cache.clear()
            report = self._reconcile()
            cache.set_meta("store", self.corpus.identity)
            report.seconds = time.perf_counter() - started
        log.info("built the local cache from Chroma: %d articles in %.1f s",
                 report.applied, report.seconds)
        return report

    def reconcile(self) -> SyncReport:
        """Compare every article with Chroma and fix what differs."""
        with self._lock:
            started = time.perf_counter()
            report = self._reconcile()
            report.seconds = time.perf_counter() - started
            return report

    def poll(self) -> SyncReport:
        """Apply the versions committed since the last poll (less the margin)."""
        with self._lock:
            cache = self.corpus.cache
            started_ms = time.time_ns() // 1_000_000
            cursor = int(cache.get_meta("cursor") or 0)
            changed = self.corpus.records.committed_since(cursor - self.margin_ms)
            report = self._apply_latest(_latest(changed))
            cache.set_meta("cursor", str(started_ms))
            return report

    def _reconcile(self) -> SyncReport:
        cache = self.corpus.cache
        started_ms = time.time_ns() // 1_000_000
        latest = _latest(self.corpus.records.scan())
        report = self._apply_latest(latest)
        # Cached articles Chroma no longer has at all (their tombstone swept): check each
        # again, since one may have been written while we scanned.
        absent = [aid for aid in cache.cached() if aid not in latest]
        if absent:
            still = set(absent) - set(self.corpus.records.versions(absent))
            report.removed += cache.delete_articles(still)
        cache.set_meta("cursor", str(started_ms))
        return report

    def _apply_latest(self, latest: dict[str, Version]) -> SyncReport:
        """Bring the cache to these versions where it holds older ones (or none)."""
        cache = self.corpus.cache
        report = SyncReport()
        if not latest:
            return report
        cached = cache.cached(list(latest))
        newer = [v for aid, v in latest.items()
                 if aid not in cached or cached[aid].stamp < v.stamp]
        deleted = [v for v in newer if v.deleted]
        for version in deleted:
            report.removed += cache.delete_articles([version.article_id], before=version.stamp)
        wanted = [v for v in newer if not v.deleted]
        for start in range(0, len(wanted), APPLY_BATCH):
            batch = wanted[start : start + APPLY_BATCH]
            texts = self.corpus.records.texts(batch)
            entries = []
            for version in batch:
                text = texts.get(version.record_id)
                if text is None:  # superseded and settled meanwhile: a newer one exists
                    continue
                if version.chunker != CHUNKER_VERSION and not self._warned:
                    self._warned = True
                    log.warning("articles in Chroma were cut by chunker version %s, this worker "
                                "runs %s: run `flask --app app ingest` with this version",
                                version.chunker, CHUNKER_VERSION)
                article = version.article(text)
                chunks = chunk_article(article, version.chunk_chars)
                entries.append(Entry(article, chunks, version.hash, version.stamp))
            report.applied += cache.put(entries)
        return report

    # -- the polling thread --------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None and self.interval_s > 0:
            self._thread = threading.Thread(target=self._run, name="corpus-sync", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                report = self.poll()
            except StoreError as exc:
                if not self._failing:
                    log.warning("cannot sync with Chroma (will retry): %s", exc.message)
                self._failing = True
                continue
            except Exception:  # a sync thread that dies leaves the worker stale for good
                log.exception("sync failed")
                continue
            if self._failing:
                log.info("syncing with Chroma again")
                self._failing = False
            if report:
                log.info("synced: %d articles updated, %d removed", report.applied,
                         report.removed)


def _latest(versions: Iterable[Version]) -> dict[str, Version]:
    latest: dict[str, Version] = {}
    for version in versions:
        have = latest.get(version.article_id)
        if have is None or version.stamp > have.stamp:
            latest[version.article_id] = version
    return latest
