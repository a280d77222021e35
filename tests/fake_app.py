"""The real app with the fake embedder, for tests that need separate processes.

Test-only: production code never reads these variables.

- ``python -m tests.fake_app`` serves exactly like ``python app.py`` (waitress, warm-up,
  fail-fast on a held store), with ``tests.fakes.FakeEmbedder`` instead of MiniLM.
- ``flask --app tests.fake_app ingest [PATH ...]`` is ``flask --app app ingest``, likewise.

``FAKE_EMBED_DELAY_S`` makes each embedding call sleep, and ``FAKE_INGEST_BATCH``
shrinks the ingest batch, so a kill can land between many small batches.
"""

from __future__ import annotations

import os
import time

import app as application
from tests.fakes import FakeEmbedder


class SlowFakeEmbedder(FakeEmbedder):
    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    def embed_documents(self, texts):
        time.sleep(self.delay)
        return super().embed_documents(texts)


def _embedder() -> FakeEmbedder:
    delay = float(os.environ.get("FAKE_EMBED_DELAY_S", "0"))
    return SlowFakeEmbedder(delay) if delay else FakeEmbedder()


def create_app():
    """Build the app from ``QA_*`` variables with the fake embedder (answering
    extractively unless ``QA_ANSWER_MODEL`` says otherwise)."""
    os.environ.setdefault("QA_ANSWER_MODEL", "extractive")
    if os.environ.get("FAKE_INGEST_BATCH"):
        import vectorstore.ingest

        vectorstore.ingest.BATCH_CHUNKS = int(os.environ["FAKE_INGEST_BATCH"])
    return application.create_app(embedder_factory=_embedder)


if __name__ == "__main__":
    application.main(create_app)
