"""Article texts and the BM25 keyword index, in one SQLite file beside the vector store.

The keyword index is SQLite FTS5 over our own stemmed terms, updated in the same
transaction as the article it indexes: built at ingest, never per query, and
visible at once to every process that shares the data directory.
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
from vectorstore.terms import terms

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,
    hash TEXT NOT NULL, source TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    n INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, hash TEXT NOT NULL,
    sentences TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize='unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_terms, 'row');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    article_id: str
    title: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]

    def sentence_texts(self) -> list[tuple[int, int, str]]:
        """Each sentence as ``(start, end, text)``, offsets absolute in the article."""
        return [(s, e, self.text[s - self.start : e - self.start]) for s, e in self.sentences]


class DocStore:
    """Articles, chunk offsets and the FTS5 term index; one connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.db.executescript(SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError("cannot open the document store") from exc
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def _tx(self):
        return _Transaction(self.db)

    # -- write path -------------------------------------------------------------------

    def article_hashes(self) -> dict[str, tuple[str, str]]:
        """Return ``article_id -> (hash, source)``."""
        rows = self.db.execute("SELECT article_id, hash, source FROM articles")
        return {aid: (h, src) for aid, h, src in rows}

    def put_article(self, article: Article, chunks: list[Chunk], content_hash: str) -> None:
        """Replace an article, its chunks and their index terms atomically."""
        with self._tx() as db:
            self._delete(db, article.article_id)
            db.execute(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                (article.article_id, article.title, article.text, content_hash,
                 article.origin, time.time()),
            )
            for c in chunks:
                cur = db.execute(
                    'INSERT INTO chunks (chunk_id, article_id, n, start, "end", hash, sentences)'
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (c.chunk_id, c.article_id, c.n, c.start, c.end, c.content_hash,
                     json.dumps(c.sentences)),
                )
                db.execute(
                    "INSERT INTO chunk_terms (rowid, terms) VALUES (?, ?)",
                    (cur.lastrowid, " ".join(terms(f"{c.title}\n{c.text}"))),
                )
            self._bump(db)

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        with self._tx() as db:
            for article_id in article_ids:
                self._delete(db, article_id)
            self._bump(db)

    @staticmethod
    def _delete(db: sqlite3.Connection, article_id: str) -> None:
        db.execute(
            "DELETE FROM chunk_terms WHERE rowid IN "
            "(SELECT rowid FROM chunks WHERE article_id = ?)",
            (article_id,),
        )
        db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM articles WHERE article_id = ?", (article_id,))

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('version', '1') ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(value AS INTEGER) + 1"
        )

    # -- read path --------------------------------------------------------------------

    def version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    def article(self, article_id: str) -> Article | None:
        row = self.db.execute(
            "SELECT article_id, title, text, source FROM articles WHERE article_id = ?",
            (article_id,),
        ).fetchone()
        return Article(*row) if row else None

    def articles(self) -> list[tuple[str, str]]:
        return list(self.db.execute("SELECT article_id, title FROM articles ORDER BY article_id"))

    def count_articles(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def count_chunks(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def chunks(self, chunk_ids: list[str]) -> dict[str, StoredChunk]:
        """Fetch chunks with their article's title and text slice."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            f'SELECT c.chunk_id, c.article_id, a.title, c.start, c."end", '
            f'substr(a.text, c.start + 1, c."end" - c.start), c.sentences '
            f"FROM chunks c JOIN articles a USING (article_id) WHERE c.chunk_id IN ({marks})",
            chunk_ids,
        )
        return {
            row[0]: StoredChunk(*row[:6], tuple(tuple(s) for s in json.loads(row[6])))
            for row in rows
        }

    def article_chunks(self, article_id: str) -> list[StoredChunk]:
        """Fetch every chunk of one article, in order."""
        ids = [row[0] for row in self.db.execute(
            "SELECT chunk_id FROM chunks WHERE article_id = ? ORDER BY start", (article_id,))]
        found = self.chunks(ids)
        return [found[i] for i in ids if i in found]

    def search(self, query_terms: list[str], k: int) -> list[tuple[str, float]]:
        """Return ``(chunk_id, bm25)`` for the best ``k`` chunks; higher is better."""
        unique = list(dict.fromkeys(t for t in query_terms if t))
        if not unique or k <= 0:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in unique)
        rows = self.db.execute(
            "SELECT c.chunk_id, -bm25(chunk_terms) AS score FROM chunk_terms "
            "JOIN chunks c ON c.rowid = chunk_terms.rowid "
            "WHERE chunk_terms MATCH ? ORDER BY rank LIMIT ?",
            (match, k),
        )
        return [(cid, float(score)) for cid, score in rows]

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


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
