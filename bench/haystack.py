"""Build the haystack corpus as article files: the seeds plus the BBC articles, and variants.

The files go through the real loader, so ingest here is the ingest users run. The
evaluation scripts reuse ``build_haystack``.
"""

from __future__ import annotations

import csv
import random
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# ../shared beside the checkout (or beside the folder of worktrees it sits in).
BBC_CSV = next((p / "shared" / "data" / "bbc-news-928.csv" for p in ROOT.parents
                if (p / "shared" / "data" / "bbc-news-928.csv").exists()),
               ROOT.parent / "shared" / "data" / "bbc-news-928.csv")
# Bump when the variant generator changes, so a cached 100k index is rebuilt.
VARIANTS_VERSION = "1"


def read_bbc(csv_path: Path = BBC_CSV) -> list[tuple[str, str]]:
    """Return ``(article_id, text)`` for each row of the BBC CSV.

    Ids are ``bbc-news-928/1`` ..., as ingesting the CSV gives them.
    """
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and "text" not in rows[0]:
        raise ValueError(f"{csv_path} has no 'text' column")
    return [(f"bbc-news-928/{i}", row["text"]) for i, row in enumerate(rows, start=1)]


def _write(path: Path, text: str) -> None:
    # Leave an unchanged file alone, so a rebuilt haystack re-ingests as unchanged.
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def build_haystack(
    target: Path | None = None,
    bbc_csv: Path = BBC_CSV,
    seeds: Path = SEEDS,
    limit: int | None = None,
) -> Path:
    """Write the seeds and every BBC row as ``.txt`` files into ``target``; return the folder.

    Article ids come out as the seeds' own ids and ``bbc-news-928/1`` ... ``bbc-news-928/928``;
    ``limit`` keeps only the first BBC rows (for a smoke test of the benchmark itself).
    """
    target = Path(target) if target else Path(tempfile.mkdtemp(prefix="haystack-"))
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(seeds).iterdir()):
        if path.is_file() and path.suffix.lower() in (".txt", ".md"):
            _write(target / path.name, path.read_text(encoding="utf-8"))
    for article_id, text in read_bbc(Path(bbc_csv))[:limit]:
        _write(target / f"{article_id}.txt", text)
    return target


def copy_seeds(target: Path, seeds: Path = SEEDS) -> Path:
    """Copy the seed corpus alone into ``target`` (the smallest benchmark corpus)."""
    shutil.copytree(seeds, target, dirs_exist_ok=True)
    return target


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FILLERS = ("reportedly", "indeed", "also", "now", "still", "meanwhile", "however", "then")


def _perturb(text: str, rng: random.Random) -> str:
    """Shuffle the sentences and disturb about one word in ten, so every copy embeds apart."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    rng.shuffle(sentences)
    out = []
    for sentence in sentences:
        tokens = sentence.split()
        for i in range(len(tokens)):
            roll = rng.random()
            if roll < 0.04 and i + 1 < len(tokens):
                tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
            elif roll < 0.07:
                tokens[i] = f"{tokens[i]} {rng.choice(_FILLERS)}"
            elif roll < 0.10 and len(tokens) > 4:
                tokens[i] = ""
        out.append(" ".join(t for t in tokens if t))
    return " ".join(out)


def variants(
    bbc: list[tuple[str, str]], copies: int, seed: int = 7
) -> Iterator[tuple[str, str]]:
    """Yield ``(article_id, text)`` for ``copies`` perturbed copies of each BBC article.

    Ids are ``bbc-v01/0001`` and so on: new articles, never the originals' ids.
    """
    for copy in range(1, copies + 1):
        rng = random.Random(seed * 1000 + copy)
        for article_id, text in bbc:
            yield f"bbc-v{copy:02d}/{article_id.split('/', 1)[1]}", _perturb(text, rng)
