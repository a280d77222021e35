"""Measure how much memory reading a file takes, in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SCRIPT = """
import json, resource, sys
from pathlib import Path
from vectorstore.article import Article
from vectorstore.load import iter_sources

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

# Warm up every reader on a small file first, so imports are not counted.
sources = [Path(p) for p in sys.argv[1:]]
for source in iter_sources(sources[:1]):
    for _ in source.items:
        break
before = peak()
count = sum(isinstance(item, Article) for source in iter_sources(sources[1:])
            for item in source.items)
print(json.dumps({"articles": count, "grew": peak() - before}))
"""


def read_growth(warm_up: Path, path: Path) -> dict:
    """Read every article of ``path`` in a new process; return the count and how much its
    peak memory grew while reading."""
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(warm_up), str(path)], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout)
