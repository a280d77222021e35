"""The app factory: the only place that wires the parts together.

``flask --app app run`` serves the chat box and API; ``python app.py`` serves them with
waitress; ``flask --app app ingest [PATH ...]`` ingests articles; ``flask --app app check
[--repair]`` compares articles, passages, vectors and the local cache.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from qa import handoff, web
from qa.errors import QAError, StoreLocked
from qa.service import QAService
from qa.settings import Settings
from vectorstore.ingest import IngestReport

WEB = Path(web.__file__).resolve().parent


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    """Build the app; nothing heavy happens until the first request or ``warm_up``."""
    factories = _factories(overrides)  # before the rest become Settings fields
    settings = settings.replace(**overrides) if settings else Settings.from_env(**overrides)
    app = Flask(__name__, static_folder=str(WEB / "static"),
                template_folder=str(WEB / "templates"))
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["qa"] = QAService(settings, **factories)
    web.register(app)
    app.cli.add_command(ingest_command)
    app.cli.add_command(check_command)
    return app


def _factories(overrides: dict) -> dict:
    return {k: overrides.pop(k) for k in ("embedder_factory", "reader_factory")
            if k in overrides}


@click.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@with_appcontext
def ingest_command(paths: tuple[Path, ...]) -> None:
    """Ingest article files or folders (default: the seeds folder) into the store."""
    from flask import current_app

    service: QAService = current_app.extensions["qa"]
    targets = list(paths) or [Path(service.settings.seeds_dir)]
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="chunk", desc="embedding", leave=False)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        report = _ingest(service, targets, progress)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        if bar is not None:
            bar.close()
        service.close()
    click.echo(ingest_summary(report))


def _ingest(service: QAService, targets: list[Path], progress) -> IngestReport:
    """Ingest into the store, or have the server that holds it ingest (``qa.handoff``)."""
    try:
        return service.ingestor.ingest_paths(targets, progress=progress)
    except StoreLocked as exc:
        address = handoff.find(Path(service.settings.data_dir), exc.holder)
        if address is None:
            raise
        click.echo(f"the server at {address.url} (pid {address.pid}) holds the store: "
                   "it ingests them", err=True)
        return handoff.ingest(address, [p.absolute() for p in targets],
                              api_key=service.settings.api_key, progress=progress)


def ingest_summary(report, per_file: int = 20) -> str:
    """The counts line, then each skipped record by file and number with its reason, and
    what was cleaned; past ``per_file`` lines a file's remaining reasons are counted."""
    from collections import Counter

    lines = [report.summary().split("\n", 1)[0]]
    shown: Counter[str] = Counter()
    hidden: dict[str, Counter[str]] = {}
    for r in report.rejected:
        if shown[r.path] < per_file:
            shown[r.path] += 1
            lines.append(f"skipped {r.label}: {r.reason}")
        else:
            hidden.setdefault(r.path, Counter())[r.reason.split(" (", 1)[0]] += 1
    for path, reasons in hidden.items():
        counted = "; ".join(f"{n} {reason}" for reason, n in reasons.most_common(5))
        lines.append(f"skipped {sum(reasons.values())} more records of {path}: {counted}")
    for article_id, note in report.cleaned[: per_file * 5]:
        lines.append(f"cleaned {article_id}: {note}")
    if len(report.cleaned) > per_file * 5:
        lines.append(f"... and {len(report.cleaned) - per_file * 5} more notes")
    return "\n".join(lines)


@click.command("check")
@click.option("--repair", is_flag=True, help="fix what the check finds, then check again")
@with_appcontext
def check_command(repair: bool) -> None:
    """Compare articles, passages, vectors and the local cache; exit 1 on any mismatch."""
    from flask import current_app

    from vectorstore.check import check
    from vectorstore.check import repair as repair_corpus

    service: QAService = current_app.extensions["qa"]
    try:
        corpus = service.corpus
        service.docs  # noqa: B018 - the local cache, built or caught up as a worker's is
        report = check(corpus)
        for line in report.lines():
            click.echo(line)
        if repair and report.findings:
            for line in repair_corpus(corpus, report, service.ingestor):
                click.echo(f"repair: {line}")
            report = check(corpus)
            for line in report.lines():
                click.echo(line)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        service.close()
    if not report.ok:
        sys.exit(1)


def main(make_app: Callable[[], Flask] = create_app) -> None:
    """Serve with waitress, the production WSGI server."""
    from qa.web.server import make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every Chroma server call at INFO: one line per request is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        # Bad settings and a store held by another process fail here, before we listen.
        app = make_app()
        service: QAService = app.extensions["qa"]
        service.store  # noqa: B018 - open it first: a held store fails before the model loads
        service.warm_up(wait=False)
    except QAError as exc:
        sys.exit(f"error: {exc.message}")
    settings = service.settings
    logging.getLogger("app").info("serving on http://%s:%s", settings.host, settings.port)
    server = make_server(app, host=settings.host, port=settings.port,
                         threads=settings.threads, ident="news-qa")
    service.advertise(settings.host, getattr(server, "effective_port", settings.port))
    try:
        server.run()
    finally:  # the store and the model closed here, not in the interpreter's teardown
        service.close()


if __name__ == "__main__":
    main()
