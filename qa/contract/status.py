"""Errors, liveness and readiness: the shapes every route shares."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from qa.contract.base import Reply


class ErrorDetail(Reply):
    omit_none: ClassVar[frozenset[str]] = frozenset({"request_id", "type"})

    code: str = Field(description="stable machine code, e.g. invalid_question")
    message: str = Field(description="safe to show a user; never a path, host or prompt")
    request_id: str | None = Field(None, description="unexpected failures: the log's id")
    type: str | None = Field(None, description="/v1 routes: OpenAI's error type")


class ErrorBody(Reply):
    """Every error: JSON with a 4xx or 5xx status, never HTML or a stack trace."""

    error: ErrorDetail


class Health(Reply):
    status: Literal["ok"] = "ok"


class Check(Reply):
    omit_none: ClassVar[frozenset[str]] = frozenset({"ms", "error", "name"})

    ok: bool
    ms: float | None = None
    error: str | None = Field(None, description="the kind of failure, never its message")
    name: str | None = None


class Readiness(Reply):
    status: Literal["ready", "warming", "unavailable"] = Field(
        description="warming: every dependency answers, but the answer model is still loading")
    checks: dict[str, Check]
