"""Scale mode's model: one llama.cpp server (``python -m llama_cpp.server``, the same
package) shared by two real app workers through ``openai:``; when it dies, each worker
answers extractively with ``degraded: true`` (issue 15, item 4)."""

from __future__ import annotations

import pytest
import requests

from qa.settings import Settings
from tests.servers import ROOT, app_env, free_port, start_app, start_model_server, stop

pytestmark = pytest.mark.slow

MODEL = ROOT / Settings().local_model_path
QUESTION = "How much does Ukraine plan to invest per year in its own weapons production?"


@pytest.fixture
def model_server():
    if not MODEL.exists():
        pytest.skip(f"{MODEL} is not installed (make model)")
    proc, url = start_model_server(MODEL, Settings().local_threads)
    yield proc, url
    stop(proc)


def test_two_workers_share_one_model_server_and_degrade_when_it_dies(tmp_path, model_server):
    server, url = model_server
    envs = [app_env(tmp_path / name, ROOT / "seeds", free_port(),
                    QA_ANSWER_MODEL="openai:local", QA_OPENAI_BASE_URL=url,
                    QA_OPENAI_API_KEY="unused", QA_MODEL_TIMEOUT_S="120")
            for name in ("a", "b")]
    workers = [start_app(env, module="app.py", timeout=300) for env in envs]
    try:
        for env in envs:
            base = f"http://127.0.0.1:{env['QA_PORT']}"
            data = requests.post(f"{base}/ask", json={"question": QUESTION}, timeout=180).json()
            assert data["model"] == "openai:local" and data["degraded"] is False, data
            assert "50 billion" in data["answer"] and data["citations"], data
        stop(server)
        base = f"http://127.0.0.1:{envs[0]['QA_PORT']}"
        response = requests.post(f"{base}/ask", json={"question": QUESTION}, timeout=60)
        data = response.json()
        assert response.status_code == 200 and data["degraded"] is True, data
        assert data["fallback"] == "model_error" and "50 billion" in data["answer"]
    finally:
        logs = "".join(stop(w) for w in workers)
    assert "Traceback" not in logs
