"""The read path, once: question -> retrieve -> read -> verify and cite -> respond.

``/ask``, its stream and ``/v1/chat/completions`` all run ``Pipeline.events``. Whatever
reader is configured, a reader that fails, runs out of time, or writes nothing the
articles support gives way to the extractive reader, and the response says so
(``degraded``, ``fallback``). Citations are rebuilt from the readers' claims here, and
checked against the stored articles before anything is sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace

from qa.abbreviations import spell_out
from qa.cite import ABSTAIN_TEXT, Claim, citation_problems, render
from qa.compose import rerank
from qa.condense import Standalone, Turn, condense
from qa.decompose import split_question
from qa.errors import ModelError
from qa.overview import (
    MAX_ARTICLES,
    leads,
    overview_topic,
    relevant_articles,
    summary_request,
)
from qa.question import on
from qa.readers import Part, Reader, ReaderInput, Reading
from qa.readers.extractive import ExtractiveReader
from qa.recency import asks_latest, day_of, mark_newer
from qa.spelling import respell
from qa.truecase import truecase
from qa.verify import numbers
from vectorstore.filters import Filters as SearchFilters

log = logging.getLogger(__name__)
# A follow-up's rewrite takes ~1.7 s on two cores; past this (or the model's own time
# budget, when shorter) the rules resolve it.
REWRITE_BUDGET_S = 5.0
NO_ARTICLE = ("No article matches the filters, so there is nothing to answer from: widen the "
              "dates or the sources.")
NOTHING_ASKED = ("The question does not say what to look for: ask about a person, place, "
                 "event or topic in the articles.")


@dataclass
class Answer:
    """A reading, who produced it, and whether it is the fallback's."""

    reading: Reading
    model: str
    fallback: str | None = None


class Pipeline:
    def __init__(self, parts, reader: Reader, fallback: ExtractiveReader, settings):
        self.parts = parts  # the service: retriever, scorer, docs
        self.reader = reader
        self.fallback = fallback
        self.settings = settings

    # -- retrieve -------------------------------------------------------------------------

    def standalone(self, question: str, history: list[Turn]) -> list[Standalone]:
        """Resolve a follow-up against the history and split a multi-part question."""
        parts = split_question(question)
        resolved = []
        for i, part in enumerate(parts):
            # Later parts may lean on the first ("... and how much of *it* is unfunded?").
            earlier = history + ([Turn("user", parts[0])] if i else [])
            resolved.append(condense(part, earlier))
        rewrite = getattr(self.reader, "condense", None)
        if (len(resolved) == 1 and resolved[0].rewritten and rewrite is not None
                and self.settings.condense == "model"):
            budget = min(REWRITE_BUDGET_S, self.settings.model_timeout_s)
            text = rewrite(question, history, time.monotonic() + budget)
            if text:
                return [Standalone(text, True, resolved[0].carried_articles, text, True,
                                   follow_up=True)]
        return resolved

    def mended(self, request):
        """The request with what the user typed read as the articles write it: an
        abbreviation they never use spelled out as they name it ("UDCG" to "Ukraine Defense
        Contact Group"), slips of the keyboard mended to the articles' words ("Staton Road"
        to "Station Road"), and words typed in lower case given the articles' capitals, so
        the rules that find names by their capitals read them. The question, and the last
        question before it (the only earlier one the rules read)."""
        docs = self.parts.docs

        def mend(text: str) -> str:
            typed = text
            if on("abbreviations"):
                text = spell_out(text, docs)
            if on("respell"):
                text = respell(text, docs)
            return truecase(text, docs, typed) if on("truecase") else text

        history = list(request.history)
        last = next((i for i in reversed(range(len(history))) if history[i].role == "user"),
                    None)
        if last is not None:
            history[last] = replace(history[last], content=mend(history[last].content))
        return replace(request, question=mend(request.question), history=history)

    def retrieve(self, request) -> ReaderInput:
        """Find passages and score their sentences, part by part."""
        typed = request.question
        request = self.mended(request)
        filters = self.filters(request)
        if filters and not self.parts.docs.count_articles(filters):
            return ReaderInput(question=request.question, standalone=request.question,
                               history=list(request.history), parts=[], typed=typed,
                               unmatched=True)
        topic = overview_topic(request.question)
        if topic is not None:
            return replace(self.overview(request, topic, filters), typed=typed)
        retriever, scorer = self.parts.retriever, self.parts.scorer
        found = []
        for standalone in self.standalone(request.question, request.history):
            query = retriever.prepare(standalone.text, standalone.question)
            passages = retriever.search(query, self.settings.top_k,
                                        boost=standalone.carried_articles, filters=filters)
            candidates = scorer.candidates(query, passages)
            mark_newer(standalone.text, candidates)
            candidates = scorer.rank(candidates)
            passages = rerank(passages, candidates, scorer.weights)
            found.append((standalone, Part(standalone.text, query, passages, candidates)))
        # A question that stands alone is read as if asked first: the chat would only
        # lengthen the prompt (up to ~150 tokens, a second on two cores) and change it.
        follows = any(s.follow_up for s, _ in found)
        return ReaderInput(
            question=request.question,
            standalone=" | ".join(s.text for s, _ in found),
            history=list(request.history) if follows else [],
            parts=[p for _, p in found],
            rewritten=found[0][0].text if len(found) == 1 and found[0][0].by_model else None,
            typed=typed,
        )

    def filters(self, request) -> SearchFilters | None:
        """The request's filters as the searches apply them, its outlets named as the
        articles spell them ("the coastal ledger" is "The Coastal Ledger")."""
        if not request.filters:
            return None
        filters = request.filters.for_search()
        if filters.sources:
            filters = replace(filters, sources=self.parts.docs.outlets(filters.sources))
        return filters

    def overview(self, request, topic: str, filters: SearchFilters | None) -> ReaderInput:
        """Find the articles an overview question points to and read their leads: those
        retrieval finds for its topic, else those the conversation was about, else the
        newest (within the filters)."""
        query, passages, articles = None, [], []
        if topic:
            query, passages, articles = self._about(topic, filters)
        elif not asks_latest(request.question):
            # "What is it about?" asks about the conversation's articles: those its answers
            # cited, else those its last question was about (it may have been abstained
            # on); "What is the latest news?" about the newest, whatever was asked before.
            earlier = condense(request.question, list(request.history))
            articles = sorted(earlier.carried_articles)[:MAX_ARTICLES]
            asked = [t.content for t in request.history if t.role == "user"]
            if not articles and asked:
                query, passages, articles = self._about(asked[-1], filters)
        headlines = not topic and not articles
        if headlines:
            query, passages = None, []
            articles = self.parts.docs.latest(MAX_ARTICLES, filters)
        text = topic or request.question
        return ReaderInput(
            question=request.question, standalone=text, history=list(request.history),
            parts=[Part(text, query, passages, leads(self.parts.docs, articles))],
            overview=True, headlines=headlines, rewritten=summary_request(topic),
        )

    def _about(self, text: str, filters) -> tuple:
        """The query for ``text``, the passages it finds, and the articles clearly about it."""
        retriever = self.parts.retriever
        query = retriever.prepare(text)
        passages = retriever.search(query, self.settings.top_k, filters=filters)
        return query, passages, relevant_articles(self.parts.scorer.candidates(query, passages))

    # -- read -----------------------------------------------------------------------------

    def unstated(self, question: ReaderInput) -> list[str]:
        """The numbers the question gives (a year, a score, an age) that no article found
        states. Articles that never say "2014" are about another season, election or final:
        whatever their sentences say reads well and verifies, and answers something else."""
        # A single digit pins nothing ("the 2nd half", "alert(4)" pasted with markup) and
        # is in almost every article anyway; years, scores, ages and fees have two or more.
        if question.overview:
            return []
        missing = {n for n in numbers(question.question) if len(n.replace(".", "")) > 1}
        for article_id in {p.chunk.article_id for part in question.parts for p in part.passages}:
            if not missing:
                break
            article = self.parts.docs.article(article_id)
            if article is not None:
                missing -= numbers(" ".join([article.title, article.text,
                                             day_of(article.published) or ""]))
        return sorted(missing, key=lambda n: (len(n), n))

    def read(self, question: ReaderInput, stream: bool) -> Generator[str, None, Answer]:
        """Run the configured reader; degrade to the extractive one when it cannot answer.
        A question pinned to a number no article found states is abstained on unread."""
        reader = self.reader
        if question.unmatched:
            return Answer(Reading([Claim(NO_ARTICLE)], abstained=True), reader.name)
        if not question.overview and not any(part.query.terms for part in question.parts):
            # "Who? What? Where?" or "How many?" with nothing before it: any passage found is
            # chance, and a model given them writes about whatever they say.
            return Answer(Reading([Claim(NOTHING_ASKED)], abstained=True), reader.name)
        missing = self.unstated(question)
        if missing:
            said = " or ".join(missing)
            text = f"The articles don't say: none of the articles found mentions {said}."
            return Answer(Reading([Claim(text)], abstained=True,
                                  details={"unstated_numbers": missing}), reader.name)
        if question.headlines:
            # Each story's lead, newest first, is the rundown: a model told to answer in one
            # sentence tells one story of three, chosen by it, not by date, in seconds.
            reader = self.fallback
        if isinstance(reader, ExtractiveReader):
            reading = yield from reader.read(question, deadline=self._deadline())
            return Answer(reading, reader.name)
        try:
            reading = yield from reader.read(question, deadline=self._deadline(), stream=stream)
        except ModelError as exc:
            log.warning("answer model %s failed: %s (%s)", reader.name, exc.message, exc.code)
            return Answer(self.fallback.answer(question), self.fallback.name, exc.code)
        if reading.fallback:
            fallen = self.fallback.answer(question)
            fallen.details = reading.details
            return Answer(fallen, self.fallback.name, reading.fallback)
        return Answer(reading, reader.name)

    def _deadline(self) -> float:
        return time.monotonic() + self.settings.model_timeout_s

    # -- respond --------------------------------------------------------------------------

    def events(self, request, stream: bool = False) -> Iterator[tuple[str, dict]]:
        """Answer as events: ``retrieval``, ``token`` (a model's draft), then ``final``."""
        started = time.perf_counter()
        self.parts.ensure_seeded()
        question = self.retrieve(request)
        retrieved = time.perf_counter()
        passages = _distinct([p for part in question.parts for p in part.passages])
        yield "retrieval", {"passages": [p.to_json() for p in passages]}
        first_token = None
        pieces = self.read(question, stream)
        try:
            while True:
                piece = next(pieces)
                if first_token is None:
                    first_token = time.perf_counter()
                yield "token", {"text": piece}
        except StopIteration as done:
            answer: Answer = done.value
        answered = time.perf_counter()
        response = self.respond(question, answer, passages)
        timings = {"retrieve": _ms(retrieved - started), "answer": _ms(answered - retrieved),
                   "total": _ms(time.perf_counter() - started)}
        if first_token is not None:
            timings["first_token"] = _ms(first_token - started)
        response["timings_ms"] = timings
        yield "final", response

    def respond(self, question: ReaderInput, answer: Answer, passages: list) -> dict:
        reading = answer.reading
        claims = reading.claims or []
        text, citations = render(claims)
        cited = [c.to_json() for c in citations]
        if citation_problems(text, cited, self._article_text):
            # Cannot happen by construction; if it ever does, never show it.
            log.error("citations failed the contract checks; abstaining")
            reading = Reading([], abstained=True)
            text, cited = ABSTAIN_TEXT, []
        response = {
            "answer": text or ABSTAIN_TEXT,
            "abstained": reading.abstained or not claims,
            "citations": cited,
            "model": answer.model,
            "timings_ms": {},
            "retrieved": [p.to_json() for p in passages[: self.settings.top_k]],
            "degraded": answer.fallback is not None,
        }
        if answer.fallback:
            response.update(fallback=answer.fallback, requested_model=self.reader.name)
        if answer.model != self.fallback.name:
            # A model wrote it: say which sentences and citations the articles support.
            trusted = {(e.article_id, e.start, e.end) for c in claims if c.verified
                       for e in c.evidence}
            for c in cited:
                c["verified"] = (c["article_id"], c["start"], c["end"]) in trusted
            response["verified"] = all(c.verified for c in claims)
        for key in ("draft", "verification", "answerability", "unstated_numbers"):
            if key in reading.details:
                response[key] = reading.details[key]
        # What was searched for, when it is not what was typed (capitals aside): a follow-up
        # resolved, parts split, an abbreviation spelled out or a slip mended.
        typed = question.typed or question.question
        if len(question.parts) > 1 or question.standalone.lower() != typed.lower():
            response["standalone_question"] = question.standalone
        return response

    def ask(self, request) -> dict:
        """Answer and return the final response."""
        final = None
        for name, data in self.events(request):
            if name == "final":
                final = data
        return final

    def _article_text(self, article_id: str) -> str | None:
        found = self.parts.docs.article(article_id)
        return found.text if found else None


def _distinct(passages: list) -> list:
    seen, out = set(), []
    for p in passages:
        if p.chunk_id not in seen:
            seen.add(p.chunk_id)
            out.append(p)
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
