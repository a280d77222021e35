"""Served answer latency with two builds of llama-cpp-python on this machine.

``python -m bench.build --other DIR [--questions FILE] [--limit 30] [--rounds 2] [--bbc CSV]
[--out FILE]``

The installed build (``make setup``'s: without OpenMP since 0.4.31) against another one
installed into ``DIR``; for the OpenMP build of earlier releases::

    CMAKE_ARGS="$(python3 tools/llama_build_flags.py --openmp)" .venv/bin/python -m pip \\
        install --no-cache-dir --no-deps --target DIR llama-cpp-python==0.3.36

``python app.py`` with the local model over the seeds and the BBC articles, once with each
build (the other one first on the server's ``PYTHONPATH``), alternated ``--rounds`` times so
that drift in the machine's speed hits both alike; each start answers one question that is
not a fixture, then each question of ``--questions`` (follow-ups left out) streamed over
HTTP, as ``bench.layout`` does. Each build's weight layout is timed before the starts, so
that no start loads the model twice. Medians and p95 per build, and the installed build's
ratio against the other. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.layout import add_serving_arguments, alternate, ingest_bbc, questions_of, ratio
from bench.report import emit
from tests.servers import ROOT, app_env


def pythonpath(site: Path | None) -> dict:
    """The environment that imports the build installed in ``site`` (None: the venv's)."""
    return {"PYTHONPATH": f"{site}:{ROOT}"} if site else {}


def build_info(site: Path | None) -> str:
    """What ``llama_print_system_info`` says of the build importable with ``site`` first."""
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode().strip())"
    env = {"PYTHONPATH": str(ROOT), **pythonpath(site)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def measure(questions: list[str], other: Path, rounds: int, bbc: Path, log=print) -> dict:
    sites = {"installed": None, "other": other}
    with tempfile.TemporaryDirectory() as tmp:
        data = ingest_bbc(Path(tmp), bbc)
        for site in sites.values():  # each build's weight layout timed now, not by a start
            subprocess.run([sys.executable, "-m", "qa.readers.repack"], cwd=ROOT,
                           env=app_env(data, ROOT / "seeds", **pythonpath(site)),
                           check=True, capture_output=True)
        medians = alternate(data, questions, rounds,
                            {name: pythonpath(site) for name, site in sites.items()}, log)
    for name, site in sites.items():
        medians[name]["build"] = build_info(site)
    return {"questions": len(questions), "rounds": rounds, "medians": medians,
            "installed_vs_other": ratio(medians, "installed", "other")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, required=True,
                        help="a directory another llama-cpp-python build was installed into")
    add_serving_arguments(parser, "build")
    args = parser.parse_args(argv)
    if not (args.other / "llama_cpp").is_dir():
        parser.error(f"{args.other} has no llama_cpp package (see --help)")
    emit(measure(questions_of(args.questions, args.limit), args.other.resolve(), args.rounds,
                 args.bbc, log=lambda t: print(t, file=sys.stderr)), args.out)


if __name__ == "__main__":
    main()
