"""``flask --app app check [--repair]``: compare articles, passages, vectors and the cache.

What a consistent corpus looks like (see corpus.py): each article's current version is a
record (or a tombstone) with exactly its passages' vectors, ``<chunk_id>@<stamp>``, each
with its passage's content hash; no record or vector of an older version remains; no
vector belongs to no version, except a write still in flight (younger than
``QA_ORPHAN_GRACE_S``); and this worker's cache holds the current version of every
article, with its passages indexed. A finding is reported only if a second look, after a
pause, sees the same thing: writes in flight settle and workers' caches catch up meanwhile,
so a corpus under write load is not taken for damaged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from vectorstore.chunk import chunk_article
from vectorstore.records import Version, current
from vectorstore.store import StoredVector, vector_id

log = logging.getLogger(__name__)

# Kinds of finding that make the check fail; the others are reported only.
FAILING = {
    "missing_vectors": "articles listed without all their vectors",
    "wrong_vectors": "vectors that do not match their passage",
    "superseded": "records or vectors of replaced versions left behind",
    "orphaned": "vectors of writes that never committed (older than the grace period)",
    "legacy": "vectors from before versioned writes (0.3.0)",
    "cache_missing": "articles missing from this worker's cache",
    "cache_stale": "articles whose cached text differs from Chroma's",
    "cache_extra": "cached articles that Chroma no longer has",
    "cache_passages": "cached passages that differ from the article's",
    "cache_index": "keyword index rows that do not match the cached passages",
}
# How long a second look waits: a write settles in milliseconds; the pause in the
# background check at start-up also covers a sync interval (caches catching up).
SETTLE_S = 0.5
INFO = {
    "in_flight": "vectors of writes still in flight",
    "old_tombstones": "deletions older than the grace period (kept to order late writes)",
}


@dataclass
class Finding:
    kind: str
    article_id: str
    detail: str
    # What a repair deletes.
    vector_ids: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    articles: int = 0
    passages: int = 0
    vectors: int = 0
    tombstones: int = 0
    cached_articles: int = 0
    cached_passages: int = 0
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(f.kind in FAILING for f in self.findings)

    def lines(self, per_kind: int = 10) -> list[str]:
        out = [
            f"{self.articles} articles, {self.passages} passages, {self.vectors} vectors, "
            f"{self.tombstones} tombstones in Chroma; {self.cached_articles} articles and "
            f"{self.cached_passages} passages in the local cache; checked in "
            f"{self.seconds:.1f}s: " + ("consistent" if self.ok else "MISMATCH")
        ]
        by_kind: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            by_kind[finding.kind].append(finding)
        for kind, found in by_kind.items():
            label = FAILING.get(kind) or INFO[kind]
            out.append(f"{'error' if kind in FAILING else 'note'}: {len(found)} {label}")
            out += [f"  {f.article_id}: {f.detail}" for f in found[:per_kind]]
            if len(found) > per_kind:
                out.append(f"  ... and {len(found) - per_kind} more")
        return out


def check(corpus, settle_s: float = SETTLE_S) -> CheckReport:
    """Compare everything; return what differs (nothing is changed). What looks wrong is
    looked at again after ``settle_s`` and reported only if it is still the same."""
    started = time.perf_counter()
    versions = list(corpus.records.scan())
    vectors = list(corpus.vectors.scan())
    cache = corpus.cache
    report = CheckReport(vectors=len(vectors), cached_articles=cache.count_articles(),
                         cached_passages=cache.count_chunks())
    findings = _examine(corpus, versions, vectors, cache.cached(), cache.chunk_hashes())
    findings += _index_findings(cache)
    if any(f.kind in FAILING for f in findings):
        # Between our reads a write may have committed and not yet settled, or reached
        # Chroma and not yet this worker's cache: both pass within a pause.
        time.sleep(settle_s)
        suspects = sorted({f.article_id for f in findings if f.kind in FAILING and f.article_id})
        again = _examine(
            corpus, [v for vs in corpus.records.versions(suspects).values() for v in vs],
            corpus.vectors.of_articles(suspects), cache.cached(suspects),
            cache.chunk_hashes(suspects)) if suspects else []
        again += _index_findings(cache)
        still = {_same(f) for f in again}
        findings = [f for f in findings if f.kind not in FAILING or _same(f) in still]
    now = {aid: current(vs) for aid, vs in _by_article(versions).items()}
    report.articles = sum(1 for v in now.values() if not v.deleted)
    report.tombstones = sum(1 for v in now.values() if v.deleted)
    report.passages = sum(v.chunks for v in now.values() if not v.deleted)
    report.findings = findings
    report.seconds = time.perf_counter() - started
    return report


def _index_findings(cache) -> list[Finding]:
    indexed, passages = cache.count_indexed(), cache.count_chunks()
    if indexed == passages:
        return []
    return [Finding("cache_index", "", f"{indexed} index rows for {passages} passages")]


def _same(finding: Finding) -> tuple:
    """What two looks must share to be the same damage: a later write's leftovers are
    other ids, a row count that moved is another count."""
    return (finding.kind, finding.article_id, finding.detail, frozenset(finding.vector_ids),
            frozenset(finding.record_ids))


def _examine(corpus, versions: list[Version], vectors: list[StoredVector],
             cached: dict, cache_chunks: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    grace_ns = int(corpus.orphan_grace_s * 1e9)
    now_ns = time.time_ns()
    by_article = _by_article(versions)
    live: dict[str, Version] = {}
    for aid, found in by_article.items():
        top = current(found)
        old = [v.record_id for v in found if v.stamp < top.stamp]
        if old:
            findings.append(Finding("superseded", aid, f"{len(old)} old records",
                                    record_ids=old))
        if top.deleted:
            if now_ns - top.stamp > grace_ns:
                findings.append(Finding("old_tombstones", aid, "deleted",
                                        record_ids=[top.record_id]))
        else:
            live[aid] = top

    expected = _expected_passages(corpus, live, cached, cache_chunks)
    stray: dict[tuple[str, str], list[str]] = defaultdict(list)
    present: set[str] = set()
    for vec in vectors:
        top = current(by_article.get(vec.article_id, []))
        if vec.stamp is None:
            stray[("legacy", vec.article_id)].append(vec.vector_id)
        elif top is not None and vec.stamp < top.stamp:
            stray[("superseded", vec.article_id)].append(vec.vector_id)
        elif top is not None and vec.stamp == top.stamp and not top.deleted:
            present.add(vec.vector_id)
            want = expected[vec.article_id].get(vec.chunk_id)
            if want != vec.chunk_hash:
                findings.append(Finding("wrong_vectors", vec.article_id,
                                        f"{vec.vector_id} is not that passage's vector"))
        elif now_ns - vec.stamp > grace_ns:
            stray[("orphaned", vec.article_id)].append(vec.vector_id)
        else:
            stray[("in_flight", vec.article_id)].append(vec.vector_id)
    for (kind, aid), ids in stray.items():
        findings.append(Finding(kind, aid, f"{len(ids)} vectors", vector_ids=ids))

    for aid, top in live.items():
        missing = [cid for cid in expected[aid] if vector_id(cid, top.stamp) not in present]
        if missing:
            findings.append(Finding("missing_vectors", aid,
                                    f"{len(missing)} of {top.chunks} passages lack a vector"))
        have = cached.get(aid)
        if have is None:
            findings.append(Finding("cache_missing", aid, "not in the cache"))
        elif have.hash != top.hash:
            findings.append(Finding("cache_stale", aid, "the cache holds another version"))
    cached_passages = _by_article_chunks(cache_chunks)
    for aid in cached:
        if aid not in live:
            findings.append(Finding("cache_extra", aid, "not in Chroma"))
        elif cached[aid].hash == live[aid].hash and cached_passages.get(aid, {}) != expected[aid]:
            findings.append(Finding("cache_passages", aid, "cached passages differ"))
    return findings


def _expected_passages(corpus, live: dict[str, Version], cached: dict,
                       cache_chunks: dict[str, str]) -> dict[str, dict[str, str]]:
    """``article_id -> chunk_id -> content hash`` of each current version, chunked from its
    text (the cached copy's when it is the same version, else the record's)."""
    cached_passages = _by_article_chunks(cache_chunks)
    expected: dict[str, dict[str, str]] = {}
    fetch = []
    for aid, version in live.items():
        have = cached.get(aid)
        mine = cached_passages.get(aid, {})
        # The cached passages stand in for the record's text when they are of the same
        # version and as many as the record says; otherwise chunk the record's text.
        if have is not None and have.hash == version.hash and len(mine) == version.chunks:
            expected[aid] = mine
        else:
            fetch.append(version)
    for start in range(0, len(fetch), 200):
        batch = fetch[start : start + 200]
        texts = corpus.records.texts(batch)
        for version in batch:
            text = texts.get(version.record_id, "")
            chunks = chunk_article(version.article(text), version.chunk_chars) if text else []
            expected[version.article_id] = {c.chunk_id: c.content_hash for c in chunks}
    return expected


def repair(corpus, report: CheckReport, ingestor) -> list[str]:
    """Fix what ``check`` found; return one line per action."""
    done: list[str] = []
    kinds = Counter(f.kind for f in report.findings)
    # In-flight vectors are never listed here: only what can no longer become current.
    vectors = [i for f in report.findings if f.kind != "in_flight" for i in f.vector_ids]
    if vectors:
        corpus.vectors.delete(vectors)
        done.append(f"deleted {len(vectors)} vectors of no current version")
    records = [i for f in report.findings for i in f.record_ids]
    if records:
        corpus.records.delete_ids(records)
        done.append(f"deleted {len(records)} records of replaced versions or old deletions")
    rewrite = sorted({f.article_id for f in report.findings
                      if f.kind in ("missing_vectors", "wrong_vectors")})
    if rewrite:
        now = corpus.records.current(rewrite)
        live = [v for v in now.values() if not v.deleted]
        texts = corpus.records.texts(live)
        articles = [v.article(texts[v.record_id]) for v in live if v.record_id in texts]
        result = ingestor.ingest(articles, rewrite=frozenset(rewrite))
        done.append(f"stored {len(articles)} articles again ({result.added} passages embedded)")
    if kinds["cache_index"]:
        corpus.syncer.rebuild()
        done.append("rebuilt the local cache")
    elif any(kinds[k] for k in ("cache_missing", "cache_stale", "cache_extra",
                                "cache_passages")):
        bad = [f.article_id for f in report.findings if f.kind == "cache_passages"]
        corpus.cache.delete_articles(bad)
        synced = corpus.syncer.reconcile()
        done.append(f"brought the local cache up to date ({synced.applied} articles "
                    f"updated, {synced.removed} removed)")
    return done


def check_in_background(corpus, delay_s: float = 3.0) -> threading.Thread:
    """Catch the cache up with Chroma, then check everything and log what is found."""

    def run() -> None:
        time.sleep(delay_s)  # let the first requests have the CPU
        try:
            synced = corpus.syncer.reconcile()
            if synced:
                log.info("start-up sync: %d articles updated, %d removed", synced.applied,
                         synced.removed)
            report = check(corpus, settle_s=SETTLE_S + corpus.syncer.interval_s)
        except Exception as exc:  # a failed background check must not stop the service
            log.warning("start-up consistency check failed: %s", exc)
            return
        lines = report.lines()
        if report.ok:
            log.info("start-up consistency check: %s", "; ".join(lines))
        else:
            log.warning("start-up consistency check found problems (fix them with "
                        "`flask --app app check --repair`):\n%s", "\n".join(lines))

    thread = threading.Thread(target=run, name="corpus-check", daemon=True)
    thread.start()
    return thread


def _by_article(versions: list[Version]) -> dict[str, list[Version]]:
    found: dict[str, list[Version]] = defaultdict(list)
    for version in versions:
        found[version.article_id].append(version)
    return found


def _by_article_chunks(chunk_hashes: dict[str, str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for chunk_id, chunk_hash in chunk_hashes.items():
        found[chunk_id.rpartition(":")[0]][chunk_id] = chunk_hash
    return found
