"""Hand ``flask ingest`` to the running server that holds the embedded store.

The embedded store is single-process, so while ``make run`` serves, ``flask ingest`` cannot
open it. The server writes its address and a random token to ``QA_DATA_DIR/server.json``
(readable by its user only); the command reads it and sends the server the paths to
ingest (``POST /ingest``), which reads them itself. Knowing the token proves the caller
can read the data directory, so letting it name local files gives nothing away; the
server also takes the call from its own machine only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from qa.errors import QAError, StoreError
from vectorstore.ingest import IngestReport

log = logging.getLogger(__name__)
ADDRESS_FILE = "server.json"
TOKEN_HEADER = "X-Ingest-Token"


@dataclass(frozen=True)
class Address:
    pid: int
    url: str
    token: str


def advertise(data_dir: Path, url: str, token: str) -> None:
    """Say where this process serves, for ``flask ingest`` run beside it."""
    path = Path(data_dir) / ADDRESS_FILE
    partial = path.with_suffix(".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"pid": os.getpid(), "url": url, "token": token}, out)
        os.replace(partial, path)
    except OSError as exc:  # only the hand-off is lost: ingesting then needs a stop
        log.warning("could not write %s: %s", path, exc)


def withdraw(data_dir: Path) -> None:
    """Remove this process's address (at exit); another process's is left alone."""
    address = _read(Path(data_dir) / ADDRESS_FILE)
    if address is not None and address.pid == os.getpid():
        Path(data_dir, ADDRESS_FILE).unlink(missing_ok=True)


def find(data_dir: Path, holder: int | None) -> Address | None:
    """The address of the server that holds the store, if it wrote one: a file left by a
    process that has since stopped names another pid than the lock's holder."""
    address = _read(Path(data_dir) / ADDRESS_FILE)
    return address if address is not None and address.pid == holder else None


def _read(path: Path) -> Address | None:
    try:
        data = json.loads(path.read_text())
        return Address(int(data["pid"]), str(data["url"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def local_url(host: str, port: int | str) -> str:
    """The URL this machine reaches a server on that listens on ``host``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def ingest(address: Address, paths: list[Path], *, api_key: str | None = None,
           progress: Callable[[int, int], None] | None = None) -> IngestReport:
    """Have the server at ``address`` ingest ``paths`` (absolute); its report."""
    headers = {TOKEN_HEADER: address.token}
    if api_key:
        headers["X-API-Key"] = api_key
    body = {"paths": [str(p) for p in paths]}
    # No read limit: a large corpus takes minutes, and progress lines keep arriving.
    timeout = httpx.Timeout(10.0, read=None)
    try:
        with httpx.stream("POST", f"{address.url}/ingest", json=body, headers=headers,
                          timeout=timeout) as response:
            if response.status_code != 200:
                response.read()
                raise StoreError(f"the server at {address.url} refused the ingest: "
                                 f"{_message(response)}")
            for line in response.iter_lines():
                event = json.loads(line) if line.strip() else {}
                if "progress" in event and progress is not None:
                    progress(*event["progress"])
                elif "error" in event:
                    raise QAError(f"the server at {address.url} could not ingest: "
                                  f"{event['error'].get('message', 'unknown error')}")
                elif "report" in event:
                    return IngestReport.from_json(event["report"])
    except httpx.HTTPError as exc:
        raise StoreError(f"the server at {address.url} holds the store but did not take "
                         f"the ingest ({type(exc).__name__}): stop it, or try again") from None
    raise StoreError(f"the server at {address.url} stopped before reporting the ingest")


def _message(response: httpx.Response) -> str:
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"

