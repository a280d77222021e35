"""One typed settings object, filled from ``QA_*`` environment variables."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from qa.errors import ConfigError

ANSWER_MODELS = ("local", "extractive", "openai", "langchain", "transformers")
PRECISIONS = ("auto", "fp32", "bf16")
UNVERIFIED_POLICIES = ("drop", "flag")


@dataclass(frozen=True)
class Settings:
    """Every knob of the service; each field maps to ``QA_<NAME>``."""

    data_dir: Path = field(
        default=Path("./data"), metadata={"doc": "embedded Chroma store and other state"}
    )
    seeds_dir: Path = field(
        default=Path("./seeds"), metadata={"doc": "corpus ingested on first start"}
    )
    answer_model: str = field(
        default="local",
        metadata={"doc": "local (the bundled model, or local:<file.gguf>), extractive, "
                  "openai:<model>, langchain:<provider:model>, transformers:<path>"},
    )
    chroma_host: str | None = field(default=None, metadata={"doc": "Chroma server host"})
    chroma_port: int | None = field(default=None, metadata={"doc": "Chroma server port"})
    chroma_timeout_s: float = field(
        default=10.0, metadata={"doc": "time limit of each Chroma server request"}
    )
    collection: str = field(default="articles", metadata={"doc": "Chroma collection name"})
    api_key: str | None = field(
        default=None, metadata={"doc": "X-API-Key required on corpus-changing endpoints"}
    )
    embed_precision: str = field(
        default="auto", metadata={"doc": "auto (bf16 where the CPU has it), fp32 or bf16"}
    )
    embed_batch_size: int = field(default=32, metadata={"doc": "passages per encode batch"})
    chunk_chars: int = field(default=350, metadata={"doc": "target passage size in chars"})
    top_k: int = field(default=8, metadata={"doc": "passages handed to the answerer"})
    max_question_chars: int = field(default=2000, metadata={"doc": "longest question"})
    max_body_bytes: int = field(default=256 * 1024, metadata={"doc": "largest request body"})
    max_history_turns: int = field(default=20, metadata={"doc": "history turns kept"})
    # Generative models (see README); unused by the extractive answerer.
    openai_base_url: str | None = field(
        default=None, metadata={"doc": "OpenAI-compatible server, e.g. http://localhost:11434/v1"}
    )
    openai_api_key: str | None = field(default=None, metadata={"doc": "key for that server"})
    model_timeout_s: float = field(default=20.0, metadata={"doc": "generative model timeout"})
    model_max_tokens: int = field(
        default=256, metadata={"doc": "longest generated answer, in tokens"}
    )
    unverified: str = field(
        default="drop", metadata={"doc": "drop or flag answer sentences that fail support"}
    )
    evidence_sentences: int = field(
        default=6, metadata={"doc": "sentences a generative model reads per question"}
    )
    local_model_path: Path = field(
        default=Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
        metadata={"doc": "the GGUF file of QA_ANSWER_MODEL=local (installed by make setup)"},
    )
    local_threads: int = field(
        default_factory=lambda: _cores(),
        metadata={"doc": "llama.cpp threads; one per free core (fewer when others share them)"},
    )
    local_context: int = field(default=4096, metadata={"doc": "llama.cpp context, in tokens"})
    local_queue: int = field(
        default=2, metadata={"doc": "questions waiting for the local model before answering "
                             "extractively (degraded, model_busy)"}
    )
    max_concurrency: int = field(
        default=16, metadata={"doc": "concurrent /ask requests before 503 + Retry-After"}
    )
    rate_limit_per_minute: int = field(
        default=0, metadata={"doc": "per-client /ask requests per minute (0: off)"}
    )
    host: str = field(default="127.0.0.1", metadata={"doc": "python app.py bind address"})
    port: int = field(default=8000, metadata={"doc": "python app.py port"})
    # More threads than max_concurrency, so health checks and pages are served and
    # excess questions are refused at once while /ask is saturated.
    threads: int = field(default=24, metadata={"doc": "waitress worker threads"})
    ready_timeout_s: float = field(
        default=2.0, metadata={"doc": "time limit of each /readyz dependency probe"}
    )

    def __post_init__(self) -> None:
        if self.answer_model.split(":", 1)[0] not in ANSWER_MODELS:
            raise ConfigError(
                f"QA_ANSWER_MODEL={self.answer_model!r} is not one of "
                f"{', '.join(ANSWER_MODELS)} (with ':<model>' for generative ones)"
            )
        if self.embed_precision not in PRECISIONS:
            raise ConfigError(f"QA_EMBED_PRECISION must be one of {', '.join(PRECISIONS)}")
        if self.unverified not in UNVERIFIED_POLICIES:
            raise ConfigError(f"QA_UNVERIFIED must be one of {', '.join(UNVERIFIED_POLICIES)}")
        if self.chroma_timeout_s <= 0:
            raise ConfigError("QA_CHROMA_TIMEOUT_S must be a positive number of seconds")
        if (self.chroma_host is None) != (self.chroma_port is None):
            raise ConfigError("set both QA_CHROMA_HOST and QA_CHROMA_PORT, or neither")

    @property
    def uses_chroma_server(self) -> bool:
        return self.chroma_host is not None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``QA_*`` variables; keyword overrides win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"QA_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f, raw)
        values.update(overrides)
        for name in ("data_dir", "seeds_dir", "local_model_path"):
            if name in values:
                values[name] = Path(values[name])
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _coerce(f: dataclasses.Field, raw: str) -> Any:
    kind = str(f.type)
    try:
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"QA_{f.name.upper()} must be a number, got {raw!r}") from exc
    if "Path" in kind:
        return Path(raw)
    return raw
