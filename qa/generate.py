"""The generative answerer: build the prompt, call the model within a deadline, verify.

The model writes; ``qa.verify`` decides what of it is kept. Citations are rebuilt from the
verified claims with ``qa.cite.render``, so markers and citations always agree.
"""

from __future__ import annotations

import itertools
import logging
import queue
import re
import string
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.cite import MARKER, Claim, citation_problems, render
from qa.compose import ABSTAIN_TEXT, SentenceVectors
from qa.condense import Standalone, Turn, condense, is_follow_up
from qa.decompose import split_question
from qa.errors import ConfigError, ModelError
from qa.models import ChatModel, Message, text_of
from qa.retrieve import Passage
from qa.verify import Verifier, claims_from, split_answer
from vectorstore.embed import Embedder

log = logging.getLogger(__name__)
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
NOT_FOUND = "NOT_FOUND"
MAX_CONDENSED_CHARS = 500
_TAG = re.compile(r"<(/?)\s*passage", re.IGNORECASE)


@dataclass(frozen=True)
class Prompt:
    """A prompt file with ``=== system ===`` and ``=== user ===`` parts and strict variables."""

    name: str
    system: str
    user: str
    variables: frozenset[str]

    @classmethod
    def load(cls, name: str, variables: set[str], folder: Path = PROMPTS_DIR) -> Prompt:
        """Read ``prompts/<name>.txt``; its variables must be exactly ``variables``."""
        path = folder / f"{name}.txt"
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the prompt {path}: {exc.strerror}") from None
        parts = re.split(r"^=== (system|user) ===\s*$", raw, flags=re.MULTILINE)
        sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2]), strict=True))
        if set(sections) != {"system", "user"}:
            raise ConfigError(f"{path} needs an '=== system ===' and an '=== user ===' part")
        found = {f for text in sections.values()
                 for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        if found != variables:
            raise ConfigError(f"{path} uses {sorted(found)}; the code fills {sorted(variables)}")
        return cls(name, sections["system"], sections["user"], frozenset(variables))

    def messages(self, **values: str) -> list[Message]:
        if set(values) != self.variables:
            raise ValueError(f"prompt {self.name} takes exactly {sorted(self.variables)}")
        return [("system", self.system.format(**values)), ("human", self.user.format(**values))]


@dataclass
class Generated:
    """What survived verification; ``claims`` is empty when nothing was verified."""

    claims: list[Claim]
    abstained: bool = False
    removed_markers: int = 0
    dropped_sentences: int = 0

    @property
    def verified(self) -> bool:
        return all(c.verified for c in self.claims)


def format_passages(passages: list[Passage]) -> str:
    """Number and fence the passages; an article cannot close or open a fence itself."""
    blocks = []
    for n, passage in enumerate(passages, 1):
        title = _TAG.sub(r"‹\1passage", passage.chunk.title).replace('"', "'")
        text = _TAG.sub(r"‹\1passage", passage.chunk.text)
        blocks.append(f'<passage n="{n}" title="{title}">\n{text}\n</passage>')
    return "\n\n".join(blocks)


class GenerativeAnswerer:
    """Answer with a chat model, then keep only what the cited passages support."""

    def __init__(self, name: str, model_factory: Callable[[], ChatModel], embedder: Embedder,
                 policy: str = "drop"):
        self.name = name
        self.policy = policy
        self._factory = model_factory
        self._model: ChatModel | None = None
        self._lock = threading.Lock()
        self.answer_prompt = Prompt.load("answer", {"count", "passages", "question"})
        self.condense_prompt = Prompt.load("condense", {"history", "question"})
        self.verifier = Verifier(SentenceVectors(embedder))

    @property
    def model(self) -> ChatModel:
        with self._lock:  # a slow load (a local model) happens once, in one thread
            if self._model is None:
                self._model = self._factory()
            return self._model

    def prompt(self, question: str, passages: list[Passage]) -> list[Message]:
        return self.answer_prompt.messages(
            count=str(len(passages)), passages=format_passages(passages), question=question
        )

    def condense(self, question: str, history: list[Turn], deadline: float) -> str:
        """Rewrite a follow-up as a standalone question with the model."""
        lines = [f"{t.role}: {' '.join(MARKER.sub('', t.content).split())}"
                 for t in history[-6:] if t.content.strip()]
        messages = self.condense_prompt.messages(history="\n".join(lines), question=question)
        raw = call_within(lambda: text_of(self.model.invoke(messages)), deadline)
        line = next((ln.strip() for ln in raw.splitlines() if ln.strip()), "")
        line = re.sub(r"^(?:standalone question\s*:\s*)", "", line, flags=re.IGNORECASE)
        line = line.strip().strip("\"'“”").strip()
        if not 1 <= len(line) <= MAX_CONDENSED_CHARS or not re.search(r"\w", line):
            raise ModelError("the model's rewritten question is unusable", code="model_garbage")
        return line

    def generate(self, question: str, passages: list[Passage], deadline: float,
                 stream: bool = False) -> Generator[str, None, Generated]:
        """Yield text deltas while the model writes (when ``stream``); return the verdict."""
        messages = self.prompt(question, passages)
        if stream:
            pieces = []
            for piece in stream_within(lambda: self.model.stream(messages), deadline):
                pieces.append(piece)
                yield piece
            raw = "".join(pieces)
        else:
            raw = call_within(lambda: text_of(self.model.invoke(messages)), deadline)
        return self.verify(raw, passages)

    def verify(self, raw: str, passages: list[Passage]) -> Generated:
        """Split, check and keep the supported sentences of the model's answer."""
        check_text(raw)
        sentences = split_answer(raw, len(passages))
        if raw.strip().upper().startswith(NOT_FOUND) or (
            NOT_FOUND in raw and not any(s.cited for s in sentences)
        ):
            return Generated([Claim(ABSTAIN_TEXT)], abstained=True)
        verdicts = self.verifier.check(sentences, [p.chunk for p in passages])
        removed = sum(len(s.fabricated) for s in sentences)
        if not any(v.verified for v in verdicts):
            return Generated([], removed_markers=removed, dropped_sentences=len(verdicts))
        claims = claims_from(verdicts, self.policy)
        return Generated(claims, removed_markers=removed,
                         dropped_sentences=len(verdicts) - len(claims))


def render_generated(claims: list[Claim]) -> tuple[str, list[dict]]:
    """Render claims; a citation is ``verified`` when a verified claim relies on it."""
    text, citations = render(claims)
    trusted = {(e.article_id, e.start, e.end) for c in claims if c.verified for e in c.evidence}
    return text, [
        {**c.to_json(), "verified": (c.article_id, c.start, c.end) in trusted}
        for c in citations
    ]


def check_text(raw: Any) -> None:
    """Refuse output that is not an answer at all: empty, binary, or without words."""
    if not isinstance(raw, str) or not raw.strip():
        raise ModelError("the model returned no text", code="model_garbage")
    letters = sum(ch.isalpha() for ch in raw)
    controls = sum(ord(ch) < 32 and ch not in "\n\t\r" for ch in raw)
    if letters < 2 or controls or letters < 0.4 * len(raw.strip()):
        raise ModelError("the model returned text that is not an answer", code="model_garbage")


# -- deadlines ----------------------------------------------------------------------------
# The model runs in a daemon thread, so a hung server or a slow local model can never hold
# a request past its deadline; the request degrades and the thread finishes on its own.


def call_within(fn: Callable[[], Any], deadline: float) -> Any:
    """Return ``fn()``, or raise ``ModelError`` when it fails or outlives ``deadline``."""
    box: queue.Queue = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:  # handed to the caller, not swallowed
            box.put((False, exc))

    threading.Thread(target=run, name="answer-model", daemon=True).start()
    try:
        ok, value = box.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        raise _timeout() from None
    if not ok:
        raise as_model_error(value) from value
    return value


def stream_within(open_stream: Callable[[], Iterator[Any]], deadline: float) -> Iterator[str]:
    """Yield the text of each streamed piece until the stream ends or ``deadline`` passes."""
    box: queue.Queue = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        try:
            pieces = open_stream()
            for piece in pieces:
                if stop.is_set():
                    getattr(pieces, "close", lambda: None)()
                    return
                box.put(("piece", piece))
            box.put(("end", None))
        except BaseException as exc:
            box.put(("error", exc))

    threading.Thread(target=run, name="answer-model-stream", daemon=True).start()
    try:
        while True:
            try:
                kind, value = box.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise _timeout() from None
            if kind == "end":
                return
            if kind == "error":
                raise as_model_error(value) from value
            try:
                text = text_of(value)
            except TypeError as exc:
                raise ModelError(str(exc), code="model_garbage") from None
            if text:
                yield text
    finally:
        stop.set()


def as_model_error(exc: BaseException) -> ModelError:
    if isinstance(exc, ModelError):
        return exc
    kind = type(exc).__name__
    if "Timeout" in kind:
        return _timeout()
    if isinstance(exc, ValueError | TypeError | UnicodeError) or "Validation" in kind:
        return ModelError(f"the model returned garbage ({kind})", code="model_garbage")
    return ModelError(f"the answer model failed ({kind})", code="model_error")


def _timeout() -> ModelError:
    return ModelError("the answer model did not answer in time", code="model_timeout")


# -- the generative read path -------------------------------------------------------------


def search_parts(retriever: Any, text: str, k: int, boost: frozenset[str]) -> list[Passage]:
    """Retrieve for each part of a multi-part question and interleave the results, so the
    model reads passages for every part, not ``k`` for whichever part dominates the query."""
    found = [retriever.search(retriever.prepare(part), k, boost=boost)
             for part in split_question(text)]
    merged, seen = [], set()
    for group in itertools.zip_longest(*found):
        for passage in group:
            if passage is not None and passage.chunk_id not in seen:
                seen.add(passage.chunk_id)
                merged.append(passage)
    return merged[:k]


def generative_events(service: Any, request: Any, stream: bool) -> Iterator[tuple[str, dict]]:
    """Answer ``request`` with the configured model as events: retrieval, token*, final.

    A model that fails, times out, writes garbage or writes nothing verifiable gives way to
    the extractive answer, marked ``"degraded": true`` with the ``"fallback"`` reason.
    """
    started = time.perf_counter()
    service.ensure_seeded()
    generator: GenerativeAnswerer = service.generator
    # One budget for every model call of this request, so degrading stays within it.
    deadline = time.monotonic() + service.settings.model_timeout_s
    standalone = condense(request.question, request.history)
    if request.history and is_follow_up(request.question):
        try:
            text = generator.condense(request.question, request.history, deadline)
            standalone = Standalone(text, text != request.question, standalone.carried_articles)
        except ModelError as exc:  # the rule-based rewrite stands
            log.warning("condensing with the model failed (%s); using the rules", exc.code)
    passages = search_parts(service.retriever, standalone.text, service.settings.top_k,
                            standalone.carried_articles)
    retrieved_at = time.perf_counter()
    yield "retrieval", {"passages": [p.to_json() for p in passages]}

    fallback, outcome = None, None
    if not passages:
        fallback = "no_passages"
    else:
        pieces = generator.generate(standalone.text, passages, deadline, stream)
        try:
            while True:
                yield "token", {"text": next(pieces)}
        except StopIteration as done:
            outcome = done.value
        except ModelError as exc:
            log.warning("answer model %s failed: %s (%s)", generator.name, exc.message, exc.code)
            fallback = exc.code
    if outcome is not None and not outcome.claims:
        fallback = "unverified"
    if outcome is not None and outcome.claims:
        text, citations = render_generated(outcome.claims)
        if citation_problems(text, citations, _article_text(service)):
            # Cannot happen by construction; if it ever does, never show it.
            log.error("generated citations failed the contract checks; falling back")
            fallback = "invalid_citations"
    if fallback:
        response = service.ask_extractive(request)
        response.update(degraded=True, fallback=fallback, requested_model=generator.name)
        response["timings_ms"]["total"] = _ms(time.perf_counter() - started)
        yield "final", response
        return
    answered_at = time.perf_counter()
    response = {
        "answer": text,
        "abstained": outcome.abstained,
        "citations": citations,
        "model": generator.name,
        "timings_ms": {
            "retrieve": _ms(retrieved_at - started),
            "answer": _ms(answered_at - retrieved_at),
            "total": _ms(time.perf_counter() - started),
        },
        "retrieved": [p.to_json() for p in passages],
        "degraded": False,
        "verified": outcome.verified,
        "verification": {"removed_markers": outcome.removed_markers,
                         "dropped_sentences": outcome.dropped_sentences},
    }
    if standalone.rewritten:
        response["standalone_question"] = standalone.text
    yield "final", response


def final_response(events: Iterator[tuple[str, dict]]) -> dict:
    """Drain ``events`` and return the final response."""
    final = None
    for name, data in events:
        if name == "final":
            final = data
    if final is None:  # pragma: no cover - every path ends with a final event
        raise ModelError("the answer ended without a response")
    return final


def _article_text(service: Any) -> Callable[[str], str | None]:
    def text(article_id: str) -> str | None:
        found = service.docs.article(article_id)
        return found.text if found else None

    return text


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
