"""Start and stop real server processes on loopback: the app under waitress, ``chroma run``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(data_dir: Path, seeds_dir: Path, port: int | None = None, **extra: str) -> dict:
    """The environment of an app process: only our ``QA_*`` variables, loopback only,
    answering extractively unless ``extra`` names a model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "FAKE_"))}
    env.update(
        QA_DATA_DIR=str(data_dir), QA_SEEDS_DIR=str(seeds_dir), QA_HOST="127.0.0.1",
        PYTHONPATH=str(ROOT), ANONYMIZED_TELEMETRY="False", QA_ANSWER_MODEL="extractive",
    )
    if port is not None:
        env["QA_PORT"] = str(port)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def spawn(cmd: list[str], env: dict) -> subprocess.Popen:
    """Start a process whose output goes to a file (a full pipe would stall it)."""
    log = tempfile.NamedTemporaryFile("w+", prefix="proc-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, text=True, stdout=log,
                            stderr=subprocess.STDOUT)
    proc.log_path = Path(log.name)  # type: ignore[attr-defined]
    log.close()
    return proc


def output(proc: subprocess.Popen) -> str:
    """Everything the process printed so far."""
    try:
        return proc.log_path.read_text(errors="replace")  # type: ignore[attr-defined]
    except FileNotFoundError:
        return ""


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = output(proc)
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            if ready():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"{what} was not ready within {timeout} s")


def start_app(env: dict, module: str = "tests.fake_app", timeout: float = 120) -> subprocess.Popen:
    """Run ``python -m <module>`` (``app.py`` runs ``python app.py``) and wait for /healthz."""
    argv = [module] if module.endswith(".py") else ["-m", module]
    proc = spawn([sys.executable, *argv], env)
    base = f"http://127.0.0.1:{env['QA_PORT']}"
    wait_until(lambda: requests.get(f"{base}/healthz", timeout=2).ok, proc, timeout, module)
    return proc


def start_chroma(path: Path, timeout: float = 60,
                 port: int | None = None) -> tuple[subprocess.Popen, int]:
    """Run ``chroma run`` (it ships with chromadb) on loopback, on ``port`` or a free one."""
    port = port or free_port()
    proc = spawn(
        [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
         "--port", str(port)],
        {**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    wait_until(lambda: requests.get(url, timeout=2).ok, proc, timeout, "chroma run")
    return proc, port


def start_model_server(model: Path, threads: int, context: int = 4096,
                       timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """Run llama.cpp's OpenAI-compatible server (``python -m llama_cpp.server``) on a free
    loopback port, serving ``model`` as ``local``; return it and its ``/v1`` address."""
    port = free_port()
    proc = spawn([sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                  "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(context),
                  "--n_threads", str(threads), "--model_alias", "local"],
                 {"PATH": "/usr/bin:/bin"})
    url = f"http://127.0.0.1:{port}/v1"
    wait_until(lambda: requests.get(f"{url}/models", timeout=2).ok, proc, timeout,
               "llama_cpp.server")
    return proc, url


def stop(proc: subprocess.Popen, timeout: float = 15) -> str:
    """Stop a process we started (SIGTERM, then SIGKILL) and return its output."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out = output(proc)
    proc.log_path.unlink(missing_ok=True)  # type: ignore[attr-defined]
    return out


def run_ingest(env: dict, paths: list[Path], module: str = "tests.fake_app",
               timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``flask --app <module> ingest PATH...`` in its own process."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", module, "ingest", *map(str, paths)],
        cwd=ROOT, env=env, text=True, capture_output=True, timeout=timeout,
    )
