"""This worker's local cache of the corpus: article texts, passage offsets, the BM25 index.

Chroma holds everything durable (see corpus.py); this SQLite file holds what each request
reads many times and Chroma cannot do here: passage offsets and sentences, and the keyword
index (SQLite FTS5 over our own stemmed terms), updated in the same transaction as the
article it indexes. It is rebuilt from Chroma when it is missing, belongs to another store
or has another format, and kept up to date by sync.py; each article row remembers the
stamp of the version it holds, so an older version never replaces a newer one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.errors import StoreError
from vectorstore.article import Article
from vectorstore.chunk import Chunk
from vectorstore.filters import Filters
from vectorstore.terms import fold, terms

# Bump when the tables change: a cache of another format is dropped and rebuilt.
FORMAT = "7"  # 7: terms fold accents and British spellings

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,
    hash TEXT NOT NULL, origin TEXT NOT NULL, published TEXT, published_ts INTEGER,
    source TEXT, url TEXT, stamp INTEGER NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles(published_ts);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    n INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, hash TEXT NOT NULL,
    sentences TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize='unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_terms, 'row');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The stamp of each article's latest known deletion, so a late copy of an older version
-- is not put back.
CREATE TABLE IF NOT EXISTS gone (article_id TEXT PRIMARY KEY, stamp INTEGER NOT NULL);
"""
_TABLES = ("chunk_vocab", "chunk_terms", "chunks", "articles", "meta", "gone")


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    article_id: str
    title: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]
    published: str | None = None
    source: str | None = None
    url: str | None = None

    def sentence_texts(self) -> list[tuple[int, int, str]]:
        """Each sentence as ``(start, end, text)``, offsets absolute in the article."""
        return [(s, e, self.text[s - self.start : e - self.start]) for s, e in self.sentences]


@dataclass(frozen=True)
class Cached:
    """What the cache holds of one article version: enough to compare it with Chroma."""

    stamp: int
    hash: str


@dataclass(frozen=True)
class Entry:
    """One article version to store in the cache, with its passages."""

    article: Article
    chunks: list[Chunk]
    hash: str
    stamp: int


class DocStore:
    """Articles, chunk offsets and the FTS5 term index; one connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        if not self.path.exists():
            self._remove_files()  # a deleted cache's journal would make SQLite fail
        try:
            self._prepare()
        except (sqlite3.DatabaseError, StoreError):
            # A damaged cache is no loss: start afresh; it is rebuilt from Chroma.
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()
            self._local.conn = None
            self._remove_files()
            self._prepare()

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _prepare(self) -> None:
        db = self.db
        if self._format(db) not in (None, FORMAT):
            for table in _TABLES:  # a cache of another format: rebuilt from Chroma
                db.execute(f"DROP TABLE IF EXISTS {table}")
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))

    @staticmethod
    def _format(db: sqlite3.Connection) -> str | None:
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.OperationalError:  # no meta table: a new file
            return None
        # A meta table without a format row is the docstore of 0.3.0 and before.
        return row[0] if row else "legacy"

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the local cache {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    def _tx(self):
        return _Transaction(self.db)

    # -- bookkeeping -------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                        "SET value = excluded.value", (key, value))

    def clear(self) -> None:
        """Forget every article (before a rebuild)."""
        with self._tx() as db:
            db.execute("DELETE FROM chunk_terms")
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM articles")
            db.execute("DELETE FROM gone")
            self._bump(db)

    # -- write path (ingest and sync) ----------------------------------------------------

    def cached(self, article_ids: Iterable[str] | None = None) -> dict[str, Cached]:
        """``article_id -> (stamp, hash)`` of these articles, or of all of them."""
        if article_ids is None:
            rows = self.db.execute("SELECT article_id, stamp, hash FROM articles")
            return {aid: Cached(stamp, h) for aid, stamp, h in rows}
        ids = list(dict.fromkeys(article_ids))
        found: dict[str, Cached] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows = self.db.execute(
                f"SELECT article_id, stamp, hash FROM articles WHERE article_id IN "
                f"({','.join('?' * len(part))})", part)
            found.update((aid, Cached(stamp, h)) for aid, stamp, h in rows)
        return found

    def put(self, entries: list[Entry]) -> int:
        """Store these versions, each unless the cache holds a newer one; return how many."""
        stored = 0
        with self._tx() as db:
            for entry in entries:
                article = entry.article
                row = db.execute(
                    "SELECT MAX(stamp) FROM (SELECT stamp FROM articles WHERE article_id = ?1 "
                    "UNION ALL SELECT stamp FROM gone WHERE article_id = ?1)",
                    (article.article_id,)).fetchone()
                if row[0] is not None and row[0] >= entry.stamp:
                    continue
                self._delete(db, article.article_id)
                db.execute(
                    "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (article.article_id, article.title, article.text, entry.hash,
                     article.origin, article.published, article.published_ts, article.source,
                     article.url, entry.stamp, time.time()),
                )
                for c in entry.chunks:
                    cur = db.execute(
                        'INSERT INTO chunks (chunk_id, article_id, n, start, "end", hash, '
                        "sentences) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (c.chunk_id, c.article_id, c.n, c.start, c.end, c.content_hash,
                         json.dumps(c.sentences)),
                    )
                    db.execute(
                        "INSERT INTO chunk_terms (rowid, terms) VALUES (?, ?)",
                        (cur.lastrowid, " ".join(terms(f"{c.title}\n{c.text}"))),
                    )
                stored += 1
            if stored:
                self._bump(db)
        return stored

    def delete_articles(self, article_ids: Iterable[str], before: int | None = None) -> int:
        """Forget these articles; with ``before`` (a deletion's stamp), only versions older
        than it, and remember it so that no older version comes back."""
        removed = 0
        with self._tx() as db:
            for article_id in article_ids:
                if before is not None:
                    db.execute("INSERT INTO gone VALUES (?, ?) ON CONFLICT(article_id) DO "
                               "UPDATE SET stamp = MAX(stamp, excluded.stamp)",
                               (article_id, before))
                    row = db.execute("SELECT stamp FROM articles WHERE article_id = ?",
                                     (article_id,)).fetchone()
                    if row is None or row[0] >= before:
                        continue
                removed += self._delete(db, article_id)
            if removed:
                self._bump(db)
        return removed

    @staticmethod
    def _delete(db: sqlite3.Connection, article_id: str) -> int:
        db.execute(
            "DELETE FROM chunk_terms WHERE rowid IN "
            "(SELECT rowid FROM chunks WHERE article_id = ?)",
            (article_id,),
        )
        db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        return db.execute("DELETE FROM articles WHERE article_id = ?", (article_id,)).rowcount

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('version', '1') ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(value AS INTEGER) + 1"
        )

    # -- read path --------------------------------------------------------------------

    def version(self) -> int:
        """A number that changes whenever the cached corpus does."""
        value = self.get_meta("version")
        return int(value) if value else 0

    def article(self, article_id: str) -> Article | None:
        row = self.db.execute(
            "SELECT article_id, title, text, origin, published, source, url FROM articles "
            "WHERE article_id = ?",
            (article_id,),
        ).fetchone()
        return Article(*row) if row else None

    def listing(self, limit: int = 100, offset: int = 0) -> list[dict]:
        """A page of the corpus: id, title, published, source and url, by id."""
        rows = self.db.execute(
            "SELECT article_id, title, published, source, url FROM articles "
            "ORDER BY article_id LIMIT ? OFFSET ?", (limit, offset))
        keys = ("article_id", "title", "published", "source", "url")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def latest(self, limit: int, filters=None) -> list[str]:
        """The ids of the ``limit`` newest articles matching ``filters`` (undated ones last,
        by id): what "the news" means when a question names no topic."""
        where, params = filters.sql() if filters else ("1", [])
        rows = self.db.execute(
            f"SELECT a.article_id FROM articles a WHERE {where} "
            "ORDER BY a.published_ts IS NULL, a.published_ts DESC, a.article_id LIMIT ?",
            [*params, limit])
        return [row[0] for row in rows]

    def count_articles(self, filters=None) -> int:
        """How many articles there are (that match ``filters``)."""
        where, params = filters.sql() if filters else ("1", [])
        return self.db.execute(f"SELECT COUNT(*) FROM articles a WHERE {where}",
                               params).fetchone()[0]

    def outlets(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """``names`` and every spelling of them the articles use, matched without regard
        to case, accents or spaces at the ends ("the reykjavik review" is "The Reykjavík
        Review")."""
        def plain(name: str) -> str:
            return fold(name.strip().casefold())
        wanted = {plain(name) for name in names}
        spelled = [row[0] for row in self.db.execute(
            "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL")
            if plain(row[0]) in wanted]
        return tuple(dict.fromkeys([*names, *spelled]))

    def count_chunks(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def chunk_hashes(self, article_ids: list[str] | None = None) -> dict[str, str]:
        """``chunk_id -> content hash`` of the cached passages (of these articles)."""
        if article_ids is None:
            return dict(self.db.execute("SELECT chunk_id, hash FROM chunks"))
        found: dict[str, str] = {}
        for start in range(0, len(article_ids), 500):
            part = article_ids[start : start + 500]
            found.update(self.db.execute(
                f"SELECT chunk_id, hash FROM chunks WHERE article_id IN "
                f"({','.join('?' * len(part))})", part))
        return found

    def count_indexed(self) -> int:
        """Rows of the keyword index (one per cached passage when all is well)."""
        return self.db.execute("SELECT COUNT(*) FROM chunk_terms").fetchone()[0]

    def chunks(self, chunk_ids: list[str]) -> dict[str, StoredChunk]:
        """Fetch chunks with their article's title, text slice and metadata."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            f'SELECT c.chunk_id, c.article_id, a.title, c.start, c."end", '
            f'substr(a.text, c.start + 1, c."end" - c.start), c.sentences, a.published, '
            f"a.source, a.url FROM chunks c JOIN articles a USING (article_id) "
            f"WHERE c.chunk_id IN ({marks})",
            chunk_ids,
        )
        return {
            row[0]: StoredChunk(*row[:6], tuple(tuple(s) for s in json.loads(row[6])), *row[7:])
            for row in rows
        }

    def article_chunks(self, article_id: str) -> list[StoredChunk]:
        """Fetch every chunk of one article, in order."""
        ids = [row[0] for row in self.db.execute(
            "SELECT chunk_id FROM chunks WHERE article_id = ? ORDER BY start", (article_id,))]
        found = self.chunks(ids)
        return [found[i] for i in ids if i in found]

    def search(self, query_terms: list[str], k: int,
               filters: Filters | None = None) -> list[tuple[str, float]]:
        """Return ``(chunk_id, bm25)`` for the best ``k`` chunks; higher is better."""
        unique = list(dict.fromkeys(t for t in query_terms if t and len(t) <= MAX_TERM_CHARS))
        if not unique or k <= 0:
            return []
        match = " OR ".join(_phrase(t) for t in unique)
        if filters:
            condition, params = filters.sql("a")
            rows = self.db.execute(
                "SELECT c.chunk_id, -bm25(chunk_terms) AS score FROM chunk_terms "
                "JOIN chunks c ON c.rowid = chunk_terms.rowid "
                "JOIN articles a ON a.article_id = c.article_id "
                f"WHERE chunk_terms MATCH ? AND {condition} ORDER BY rank LIMIT ?",
                (match, *params, k),
            )
        else:
            rows = self.db.execute(
                "SELECT c.chunk_id, -bm25(chunk_terms) AS score FROM chunk_terms "
                "JOIN chunks c ON c.rowid = chunk_terms.rowid "
                "WHERE chunk_terms MATCH ? ORDER BY rank LIMIT ?",
                (match, k),
            )
        return [(cid, float(score)) for cid, score in rows]

    def texts_with(self, term: str, limit: int) -> list[str]:
        """Up to ``limit`` passage texts whose keyword terms include ``term``."""
        return self.texts_with_run([term], limit)

    def texts_with_run(self, run: list[str], limit: int) -> list[str]:
        """Up to ``limit`` passage texts with the keyword terms ``run`` in a row."""
        return self._texts(" + ".join(_phrase(term) for term in run), limit) if run else []

    def texts_with_initials(self, letters: str, limit: int) -> list[str]:
        """Up to ``limit`` passage texts with keyword terms in a row that start with
        ``letters`` ("udcg": "ukrain defens contact group"), which may spell a name out."""
        if not letters.isalpha():
            return []
        # One FTS5 phrase of prefix tokens: "u"* + "d"* + "c"* + "g"* (~10 ms, haystack).
        return self._texts(" + ".join(f'"{letter}"*' for letter in letters.lower()), limit)

    def _texts(self, match: str, limit: int) -> list[str]:
        rows = self.db.execute(
            'SELECT substr(a.text, c.start + 1, c."end" - c.start) FROM chunk_terms '
            "JOIN chunks c ON c.rowid = chunk_terms.rowid "
            "JOIN articles a ON a.article_id = c.article_id "
            "WHERE chunk_terms MATCH ? LIMIT ?",
            (match, limit),
        )
        return [row[0] for row in rows]

    def together(self, term: str, others: list[str]) -> int:
        """How many passages hold ``term`` and at least one of ``others``."""
        if not others:
            return 0
        match = f"{_phrase(term)} AND ({' OR '.join(_phrase(t) for t in others)})"
        return self.db.execute("SELECT count(*) FROM chunk_terms WHERE chunk_terms MATCH ?",
                               (match,)).fetchone()[0]

    def document_frequencies(self, query_terms: list[str]) -> tuple[dict[str, int], int]:
        """Return each term's chunk count and the number of chunks, for idf weights."""
        unique = list(dict.fromkeys(query_terms))
        total = self.count_chunks()
        if not unique:
            return {}, total
        marks = ",".join("?" * len(unique))
        rows = self.db.execute(
            f"SELECT term, doc FROM chunk_vocab WHERE term IN ({marks})", unique
        )
        return dict(rows), total


# FTS5 reads a term with stops inside ("8.5", "a.a.a...") as a phrase of its tokens, and
# matching a long phrase against passages full of its tokens is quadratic: a query of
# 1,000 "a." took 3 minutes against an article of them. No word of an article is longer.
MAX_TERM_CHARS = 64


def _phrase(term: str) -> str:
    """``term`` as an FTS5 string, so its characters are never read as query syntax."""
    return '"' + term.replace('"', '""') + '"'


def read_legacy(path: Path) -> list[Article]:
    """The articles of a 0.3.0 docstore file (texts lived only there), for the migration."""
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT article_id, title, text, source FROM articles").fetchall()
    except sqlite3.Error:
        return []
    return [Article(aid, title, text, origin) for aid, title, text, origin in rows]


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
