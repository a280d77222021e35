"""``.csv`` and ``.jsonl`` files: one article per row, read as a stream.

Rows are read one at a time, so a file of any size needs the memory of one row. Columns
(CSV) and keys (JSONL) are matched case-insensitively under the names in
``record.FIELDS``; a row's id is ``<file>/<id>`` when there is an id, else
``<file>/<row number>`` (CSV rows are numbered from 1 after the header, blank lines not
counted; JSONL rows by their line number). A row that cannot be read is rejected with its
number and reason and the others are read on: ragged rows, rows without text, bytes
that are not UTF-8, over-long fields and lines, invalid JSON, repeated ids.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from vectorstore.article import Article, Rejected
from vectorstore.formats.record import (
    FIELDS,
    MAX_ARTICLE_BYTES,
    build_article,
    id_prefix,
    pick,
    slug,
    validate_article_id,
)

CSV_SUFFIXES = (".csv",)
JSONL_SUFFIXES = (".jsonl",)
# Longest physical line read at once; a longer one is cut and its row rejected.
MAX_LINE_BYTES = MAX_ARTICLE_BYTES + 64 * 1024


class _Lines:
    """Decode a binary file line by line, noting lines that are not UTF-8 or too long.

    A bad line is decoded with replacement characters, so the CSV parser keeps its place;
    the row that holds it is rejected.
    """

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bad: dict[int, str] = {}
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self.raw.readline(MAX_LINE_BYTES)
            if not line:
                return
            self.number += 1
            if self.number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
                self.bad[self.number] = f"has a line longer than {MAX_LINE_BYTES // 1024} KiB"
                while (more := self.raw.readline(MAX_LINE_BYTES)) and not more.endswith(b"\n"):
                    pass
                line = b"\n"
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                self.bad[self.number] = "is not UTF-8 text"
                yield line.decode("utf-8", errors="replace")


def _dialect(header_line: str) -> str:
    """Comma, unless the header line is plainly separated by tabs or semicolons."""
    if "," in header_line:
        return ","
    return "\t" if "\t" in header_line else ";" if ";" in header_line else ","


def _row_article(record: dict[str, object], article_id: str, origin: str, path: str,
                 where: str) -> Article | Rejected:
    return build_article(
        article_id, pick(record, "text"), origin=origin, path=path, where=where,
        title=pick(record, "title"), published=pick(record, "published"),
        source=pick(record, "source"), url=pick(record, "url"),
    )


class _Ids:
    """Give each row its id and reject a repeated one."""

    def __init__(self, prefix: str, path: str):
        self.prefix, self.path = prefix, path
        self.seen: dict[str, str] = {}

    def make(self, record: dict[str, object], number: int, where: str) -> str | Rejected:
        value = pick(record, "id")
        if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
            return Rejected(self.path, "its id is not a string or a number", where=where)
        part = str(number) if value is None else str(value).strip()
        if value is not None and not validate_article_id(part):
            part = slug(part)
        article_id = f"{self.prefix}/{part}"
        if not part or not validate_article_id(article_id):
            return Rejected(self.path, f"{value!r} cannot be an article id", where=where)
        if article_id in self.seen:
            return Rejected(self.path, f"repeats id {article_id} ({self.seen[article_id]})",
                            where=where, article_id=article_id)
        self.seen[article_id] = where
        return article_id


def read_csv(path: Path, root: Path, origin: str) -> Iterator[Article | Rejected]:
    label = str(path)
    # The csv module's limit is per process; raise it to the article limit for every reader.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_ARTICLE_BYTES))
    with open(path, "rb") as raw:
        lines = _Lines(raw)
        stream = iter(lines)
        first = next(stream, None)
        if first is None:
            yield Rejected(label, "empty file")
            return
        delimiter = _dialect(first)
        reader = csv.reader(_chain([first], stream), delimiter=delimiter)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except (csv.Error, StopIteration) as exc:
            yield Rejected(label, f"its header cannot be read ({exc})")
            return
        if not any(name in header for name in FIELDS["text"]):
            shown = ", ".join(h for h in header if h)[:200] or "none"
            yield Rejected(label, "no text column (one of " + ", ".join(FIELDS["text"])
                           + f"; its columns: {shown})")
            return
        ids = _Ids(id_prefix(path, root), label)
        number, last_line = 0, reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield Rejected(label, f"cannot be parsed ({exc})",
                               where=_where(number, last_line + 1))
                last_line = reader.line_num
                continue
            span = range(last_line + 1, reader.line_num + 1)
            first_line, last_line = span.start, reader.line_num
            bad = next((lines.bad[n] for n in span if n in lines.bad), None)
            if not bad and (not row or (len(row) == 1 and not row[0].strip())):
                continue
            number += 1
            where = _where(number, first_line)
            if bad:
                yield Rejected(label, bad, where=where)
                continue
            # Empty cells past the header's end are a spreadsheet's trailing commas;
            # anything else ragged means the columns cannot be trusted.
            if len(row) < len(header) or any(cell.strip() for cell in row[len(header):]):
                yield Rejected(label, f"has {len(row)} fields, the header has {len(header)}",
                               where=where)
                continue
            record: dict[str, object] = {}
            for name, cell in zip(header, row, strict=False):
                record.setdefault(name, cell)
            article_id = ids.make(record, number, where)
            if isinstance(article_id, Rejected):
                yield article_id
                continue
            yield _row_article(record, article_id, origin, label, where)


def _where(number: int, line: int) -> str:
    return f"row {number}" if line == number + 1 else f"row {number} (line {line})"


def _chain(*parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        yield from part


def read_jsonl(path: Path, root: Path, origin: str) -> Iterator[Article | Rejected]:
    label = str(path)
    with open(path, "rb") as raw:
        lines = _Lines(raw)
        ids = _Ids(id_prefix(path, root), label)
        for line in lines:
            number = lines.number
            where = f"line {number}"
            if number in lines.bad:
                yield Rejected(label, lines.bad[number], where=where)
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problem = exc.msg.removesuffix(" at")
                yield Rejected(label, f"is not valid JSON ({problem} at column {exc.colno})",
                               where=where)
                continue
            except RecursionError:
                yield Rejected(label, "is not valid JSON (nested too deeply)", where=where)
                continue
            if not isinstance(record, dict):
                yield Rejected(label, "is not a JSON object", where=where)
                continue
            # Keys match case-insensitively; reversed, so the first of "Text" and "text" wins.
            record = {str(k).strip().lower(): v for k, v in reversed(record.items())}
            article_id = ids.make(record, number, where)
            if isinstance(article_id, Rejected):
                yield article_id
                continue
            yield _row_article(record, article_id, origin, label, where)
