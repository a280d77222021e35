"""The generative reader: a language model answers from a few numbered sentences.

The model reads only the best sentences the scorer found (a small model given eight whole
passages refuses almost everything), writes one short answer with the number of the
sentence that states it, or NOT FOUND. Then the service takes over: each answer sentence
must be supported by the sentence it cites (or, when the model cited the wrong number, by
another retrieved one, which is then cited instead); quotes and offsets come from the
article, never from the model; and whether to answer at all is decided by the calibrated
``Abstainer`` from the model's refusal probability, the support check and the retrieval
scores together.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Generator
from dataclasses import replace

from qa.abstain import Abstainer, Signals, describe
from qa.cite import ABSTAIN_TEXT, MARKER, Claim
from qa.condense import Turn, last_exchange
from qa.errors import ModelError
from qa.focus import around, unfocused
from qa.prompt import Prompt
from qa.question import answer_type, counts_other, implied, other_kind, share_for_count
from qa.readers import ReaderInput, Reading, register, story_floor
from qa.readers.chat import close_model
from qa.readers.evidence import ORDER, Order, Sentence, select
from qa.readers.followup import Rewriter
from qa.recency import dated, day_of, days_as_said, without_years
from qa.verify import (
    Verifier,
    full_names,
    introduced,
    invented,
    level_for_change,
    split_answer,
    unmentioned,
)
from vectorstore.chunk import split_sentences
from vectorstore.terms import terms

REFUSAL = "NOT FOUND"
PREFILL = "Answer:"


# An article may give one of the question's names in another form ("American" for the US,
# "Washington" for its government); one that uses two of them nowhere is about someone else.
STRANGERS = 2
YES_NO = re.compile(r"(?i)\W*(?:yes|no)\b")


class GenerativeReader:
    """Answer with a language model, keep only what the evidence supports, abstain when the
    signals say the articles do not answer."""

    def __init__(self, model, verifier: Verifier, abstainer: Abstainer, sentences: int = 6,
                 policy: str = "drop", extractive=None, queue: int = 2, words: int = 0,
                 article_text=None, order: Order | None = None):
        self.model = model
        self.article_text = article_text  # article id -> its text (None: names unchecked)
        # One model call runs and ``queue`` wait; more are answered extractively at once
        # (model_busy) rather than holding a thread for tens of seconds.
        self._slots = threading.BoundedSemaphore(queue + 1)
        self.extractive = extractive  # its verdict is one of the abstainer's signals
        self.name = model.name
        self.verifier = verifier
        self.abstainer = abstainer
        self.sentences = sentences
        self.words = words
        self.order = order  # None: the extractive reader's ranking
        self.policy = policy
        self.prompt = Prompt.load("answer", {"history", "sentences", "question"})
        # The system turn every prompt opens with: warmed once, and shared by the rewrite.
        self.opening = self.prompt.messages(history="", sentences="", question="")[:1]
        self.rewriter = Rewriter(self.opening)

    def messages(self, question: ReaderInput, evidence: list[Sentence]):
        # Runs of spaces (stripped punctuation, scraped layout) are ~6 % of a news text's
        # tokens and say nothing to the model; the quotes keep the article's own text.
        lines = "\n".join(f"[{n}] {dated(' '.join(s.text.split()), s.published)}"
                          for n, s in enumerate(evidence, 1))
        if question.rewritten:  # a follow-up made to stand alone, or a summary requested
            return self.prompt.messages(history="", sentences=lines,
                                        question=question.rewritten)
        return self.prompt.messages(history=_history(question), sentences=lines,
                                    question=question.question)

    def warm_up(self) -> None:
        """Load the model and evaluate the prompt's constant opening now: otherwise the first
        question after start-up waits for both (~4 s more on two cores)."""
        warm = getattr(self.model, "warm_up", None)
        if warm is not None:  # the system turn: the user's turn opens with what varies
            warm(self.opening)

    def close(self) -> None:
        """Free the model now rather than at the interpreter's exit."""
        close_model(self.model)

    def condense(self, question: str, history: list[Turn], deadline: float) -> str | None:
        """The model's standalone rewrite of a follow-up; None when it is busy or fails."""
        if not self._slots.acquire(blocking=False):
            return None
        try:
            return self.rewriter(self.model, question, history, deadline)
        finally:
            self._slots.release()

    def read(self, question: ReaderInput, *, deadline: float,
             stream: bool = False) -> Generator[str, None, Reading]:
        evidence = select(question, self.sentences, self.words, self.order)
        if not evidence:
            return Reading([Claim(ABSTAIN_TEXT)], abstained=True)
        if not self._slots.acquire(blocking=False):
            raise ModelError(f"{self.name} is busy", code="model_busy")
        try:
            reading = yield from self.answer_from(question, evidence, deadline, stream)
        finally:
            self._slots.release()
        return reading

    def answer_from(self, question: ReaderInput, evidence: list[Sentence], deadline: float,
                    stream: bool = False) -> Generator[str, None, Reading]:
        """Answer from ``evidence`` (``read`` chooses it; ``qa.ceiling`` hands the answer's
        own sentence in, to tell reading losses from retrieval losses)."""
        cancel = threading.Event()
        generation = self.model.generate(
            self.messages(question, evidence), deadline=deadline, prefill=PREFILL,
            watch={"refusal": REFUSAL.split()[0]}, cancel=cancel,
        )
        pieces: list[str] = []
        shown = 0
        try:
            for piece in generation:
                pieces.append(piece)
                text = "".join(pieces).lstrip()
                again = repeated_from(text)
                if again is not None:
                    # Greedy decoding has started a loop ("He met the E5 leaders [6]. He met
                    # the E5 leaders [6]. ..."): nothing more will be said, only time spent.
                    pieces = [text[:again]]
                    break
                # Hold the draft back only while it could still be the refusal.
                if stream and not _could_refuse(text):
                    yield text[shown:]
                    shown = len(text)
        finally:
            cancel.set()
            close = getattr(generation.pieces, "close", None)
            if close is not None:  # frees the model for the next question now
                close()
        raw = _strip_prefill("".join(pieces))
        check_text(raw)
        return self.conclude(question, evidence, raw, generation.first_probs.get("refusal"))

    def conclude(self, question: ReaderInput, evidence: list[Sentence], raw: str,
                 refusal_p: float | None) -> Reading:
        """Verify the model's answer and decide between it, an abstention and a fallback."""
        refused = _refuses(raw)
        if question.overview:
            return self._overview(raw, evidence, refused)
        # The articles' dates were shown with the sentences: saying when is not an invention.
        given = " ".join([question.question, *filter(None, (day_of(s.published)
                                                             for s in evidence))])
        claims, counts = ([], {}) if refused else self._verified(
            raw, evidence, given, question.question, _history(question), story_floor(question),
            one_part=len(question.parts) == 1)
        signals = self._signals(question, evidence, claims, refused, refusal_p)
        probability = self.abstainer.probability(signals)
        details = _details(raw, counts, answerability=describe(signals, probability))
        # A refusal is an answer, not a failure, when the extractive reader agrees or the
        # question asks for a name, number, date or place: the sentences the model found no
        # such answer in hold none for the fallback either (a why, how or yes/no question may
        # still be answered by a sentence the strict model would not word). An answer about
        # the question's subject drawn from a sentence about another one says the articles
        # cover something near the question, not the question; so do a number no sentence it
        # read states ("10 [3]" for how many drones were launched this year) and an answer
        # that only restates the question.
        if (probability < self.abstainer.threshold
                or (refused and (signals.extractive_abstains or _typed(question)))
                or (not claims and (counts.get("misattributed")
                                    or counts.get("invented_numbers")
                                    or counts.get("miscounted")
                                    or counts.get("restated")))):
            return Reading([Claim(ABSTAIN_TEXT)], abstained=True, details=details)
        if not claims:
            # The articles seem to answer, but the model's answer is not theirs (or it
            # refused): the sentences themselves are the safer answer.
            return Reading([], abstained=False, details=details,
                           fallback="model_refused" if refused else "unverified")
        return Reading(claims, abstained=False, details=details)

    def _overview(self, raw: str, evidence: list[Sentence], refused: bool) -> Reading:
        """What articles are about. The leads read are of the articles that hold the topic,
        so the factoid abstainer has no say; a refusal means they are not about it after
        all ("mars" the verb for "the Mars landing"). Only what the model says is checked."""
        claims, counts = ([], {}) if refused else self._verified(raw, evidence, "")
        details = _details(raw, counts)
        if refused:
            return Reading([Claim(ABSTAIN_TEXT)], abstained=True, details=details)
        if not claims:
            return Reading([], abstained=False, details=details, fallback="unverified")
        return Reading(claims, abstained=False, details=details)

    def _verified(self, raw: str, evidence: list[Sentence], given: str,
                  asked: str = "", history: str = "",
                  floor: float = 0.0, one_part: bool = True) -> tuple[list[Claim], dict]:
        """Keep the answer sentences a sentence the model read supports, citing that one.
        ``given`` is what the answer may repeat unsupported (the question, the days shown);
        ``asked`` the question, whose names must be the cited sentence's subject;
        ``history`` the earlier turns the model was shown, whose numbers are not invented;
        ``floor`` the share of the question a cited sentence's article must hold;
        ``one_part`` whether the question asks one thing, so each sentence answers its kind."""
        claims, dropped, moved, removed, misattributed, made_up = [], 0, 0, 0, 0, set()
        miscounted = 0
        texts = " ".join(s.text for s in evidence)
        # An answer made only of the question's words answers nothing ("Auxerre scored goals"
        # for who scored them), unless the question offered the choice ("...or every year?").
        known, restated = set(terms(f"{asked} {history}")), 0
        choice = bool(re.search(r"\bor\b", asked, re.IGNORECASE))
        for sentence in split_answer(raw, len(evidence)):
            removed += len(sentence.fabricated)
            # The days shown excuse a number only where the answer writes it as a date.
            shown = days_as_said(sentence.text, given)
            best, misnamed, shifted = self._supported(sentence, evidence, shown, asked, floor)
            supported = best is not None and best.score >= self.verifier.threshold
            made = set() if supported else invented(sentence.text,
                                                    " ".join([shown, history, texts]))
            undated = without_years(sentence.text, made)
            if undated != sentence.text and answer_type(asked) != "year":
                # Only the year the model dated the article's day with is its own: the day,
                # shown without it, may be what the article says.
                retry = replace(sentence, text=undated)
                found = self._supported(retry, evidence, shown, asked, floor)
                if found[0] is not None and found[0].score >= self.verifier.threshold:
                    sentence, (best, misnamed, shifted), supported = retry, found, True
            moved += shifted
            if supported and counts_other(asked, sentence.text):
                # True to the sentence, but a count of something else ("70 projects" for
                # how many tanks): the sentences hold no count of what was asked.
                dropped, miscounted = dropped + 1, miscounted + 1
            elif supported and share_for_count(asked, sentence.text, best.evidence.quote):
                # "27.8%" for how many seats, quoting "27.8 per cent and 33 seats": the
                # articles answer, the model did not; the fallback quotes the count.
                dropped += 1
            elif supported and level_for_change(asked, sentence.text, best.evidence.quote):
                # "£84.6m" for how much profit fell, quoting "a 31% fall in profit to
                # £84.6m": where the change ended, not its size; the fallback quotes both.
                dropped += 1
            elif supported and one_part and other_kind(asked, sentence.text):
                # "35 seats" for what share of the vote: true to its sentence, but the
                # answer to another question, as a count of something else is.
                dropped, miscounted = dropped + 1, miscounted + 1
            elif supported:
                claims.append(Claim(sentence.text, [best.evidence]))
            elif self.policy == "flag" and best is not None:
                claims.append(Claim(sentence.text, [best.evidence], verified=False))
            else:
                dropped += 1
                misattributed += misnamed
                made_up |= made
                restated += not (set(terms(sentence.text)) - known
                                 or YES_NO.match(sentence.text) or choice)
        return claims, {"removed_markers": removed, "dropped_sentences": dropped,
                        "moved_citations": moved, "misattributed": misattributed,
                        "invented_numbers": sorted(made_up), "miscounted": miscounted,
                        "restated": restated if restated == dropped else 0}

    def _supported(self, sentence, evidence: list[Sentence], given: str, asked: str,
                   floor: float):
        """The best support of an answer sentence among those it cites, else among all the
        model read (it may have cited the wrong number); whether a name was pinned on the
        wrong sentence; and whether the citation moved."""
        cited = [evidence[n - 1] for n in sentence.cited]
        best, misnamed = self._best(sentence.text, cited, given, asked, floor)
        if best is None or best.score < self.verifier.threshold:
            others = [s for s in evidence if s not in cited]
            alt, also = self._best(sentence.text, others, given, asked, floor)
            misnamed = misnamed or also
            if alt is not None and alt.score >= self.verifier.threshold:
                return alt, misnamed, True
        return best, misnamed, False

    def _best(self, claim: str, sentences: list[Sentence], given: str, asked: str,
              floor: float = 0.0):
        """The best support of ``claim`` among ``sentences``, and whether one would have
        supported it but for pinning a name from the question on a sentence its article has
        not said is about that name ("Russia can produce..." on a sentence about Ukraine),
        or for its article telling another story (holding less than ``floor`` of the
        question's terms)."""
        best, misnamed = None, False
        question = f"{asked} {implied(asked)}"  # what the answer may repeat unsupported
        for sentence in sentences:
            article = None if self.article_text is None else self.article_text(
                sentence.article_id)
            support = self.verifier.support(claim, sentence, question, shown=given,
                                            names=full_names(sentence.text, article or ""))
            if support.score >= self.verifier.threshold and sentence.story < floor:
                support.score, misnamed = 0.0, True
            if support.score >= self.verifier.threshold and self.article_text is not None:
                # "he" or "his country" may stand for a name said before the sentence.
                text, start, end = ((article, sentence.start, sentence.end) if article
                                    else (sentence.text, 0, len(sentence.text)))
                used = set(terms(f"{sentence.title} {article or sentence.text}"))
                near = around(text, start, end, sentence.title)
                if not introduced(claim, asked, around(text, start, end, sentence.title,
                                                       before=start)) or (
                        len(unmentioned(asked, used)) >= STRANGERS
                        or unfocused(asked, near, used)):
                    support.score, misnamed = 0.0, True
            if best is None or support.score > best.score:
                best = support
        return best, misnamed

    def _signals(self, question: ReaderInput, evidence: list[Sentence], claims: list[Claim],
                 refused: bool, refusal_p: float | None) -> Signals:
        supported = [e for c in claims if c.verified for e in c.evidence]
        by_span = {(s.article_id, s.start): s for s in evidence}
        cited = [by_span[(e.article_id, e.start)] for e in supported
                 if (e.article_id, e.start) in by_span]
        passages = [p for part in question.parts for p in part.passages]
        asked = set(terms(question.question))
        said = set(terms(" ".join(c.text for c in claims)))
        extractive = self.extractive.answer(question) if self.extractive else None
        abstains = extractive is not None and extractive.abstained
        # Two readers that pick the same sentence by different means are rarely both wrong.
        chosen = [] if extractive is None or abstains else [
            e for c in extractive.claims for e in c.evidence]
        agrees = any(e.article_id == x.article_id and e.start < x.end and x.start < e.end
                     for e in supported for x in chosen)
        return Signals(
            refusal=float(refused) if refusal_p is None else refusal_p,
            refused=float(refused),
            support=max((e.score for e in supported), default=0.0),
            novelty=len(said - asked) / len(said) if said else 0.0,
            cited_similarity=max((s.similarity for s in cited), default=0.0),
            cited_coverage=max((s.coverage for s in cited), default=0.0),
            top_similarity=max(s.similarity for s in evidence),
            top_coverage=max(s.coverage for s in evidence),
            passage_similarity=max((p.dense for p in passages), default=0.0),
            sentence_score=max(s.score for s in evidence),
            extractive_abstains=float(abstains),
            agrees=float(agrees),
        )


def _details(raw: str, counts: dict, **more) -> dict:
    """What the response reports of a reading: the draft and what verification did."""
    return {"draft": raw, **more, "verification": {"removed_markers": 0, "dropped_sentences": 0,
                                                   "moved_citations": 0, **counts}}


def check_text(raw: str) -> None:
    """Refuse output that is not an answer at all: empty, binary, or without words."""
    if not isinstance(raw, str) or not raw.strip():
        raise ModelError("the model returned no text", code="model_garbage")
    text = MARKER.sub("", raw).strip()  # "1969 [2]." is an answer
    controls = sum(ord(ch) < 32 and ch not in "\n\t\r" for ch in raw)
    # Letters, digits, punctuation, spaces, currency and math signs are text ("5% .",
    # "£3m."); a reply mostly of other symbols (emoji, box drawing, private use) is not.
    textual = sum(_textual(unicodedata.category(ch)) for ch in text)
    if not any(ch.isalnum() for ch in text) or controls or textual < 0.6 * len(text):
        raise ModelError("the model returned text that is not an answer", code="model_garbage")


def _typed(question: ReaderInput) -> bool:
    """Tell whether every part of the question asks for a name, number, date or place.

    As the sentence scorer does, the kind comes from the question as asked: a follow-up's
    condensed text borrows the conversation's words, which do not change what is asked."""
    return all(answer_type(part.query.asked or part.text) for part in question.parts)


def _textual(category: str) -> bool:
    return category[0] in "LNPZ" or category in ("Sc", "Sm")


def _refuses(text: str) -> bool:
    head = re.sub(r"[^A-Z]", "", text.strip()[:12].upper())
    return head.startswith("NOTFOUND")


def repeated_from(text: str) -> int | None:
    """Where ``text`` starts saying a finished sentence of its own again (markers and case
    aside), or None."""
    spans = split_sentences(text)
    said = set()
    for start, end in spans[:-1]:  # the last may be unfinished
        words = " ".join(MARKER.sub("", text[start:end]).lower().split()).rstrip(".!? ")
        if words in said:
            return start
        said.add(words)
    return None


def _could_refuse(text: str) -> bool:
    """Whether ``text`` may still grow into the refusal: its letters so far begin it. A digit
    never does, so "180 [1]." streams from its first figure."""
    head = re.sub(r"[^A-Z0-9]", "", text.upper())
    return REFUSAL.replace(" ", "").startswith(head) or _refuses(text)


def _strip_prefill(text: str) -> str:
    text = text.strip()
    return text[len(PREFILL):].strip() if text.startswith(PREFILL) else text


def _history(question: ReaderInput) -> str:
    """The previous exchange, for a follow-up the model must resolve ("how old is he?")."""
    turns = last_exchange(question.history)
    return f"Earlier in this chat: {' / '.join(t.content for t in turns)}\n" if turns else ""


REPACK = {"on": True, "off": False, "auto": None}


@register("local")
def _local(spec: str, settings, parts) -> GenerativeReader:
    from pathlib import Path

    from qa.readers.llama import LlamaCppModel

    path = Path(spec).expanduser() if spec else Path(settings.local_model_path)
    LlamaCppModel.check(path)  # at start-up; the model loads in warm_up or on first use
    name = "local" if not spec else f"local:{path.name}"
    return _reader(LazyModel(name, lambda: LlamaCppModel(
        path, threads=settings.local_threads, context=settings.local_context,
        max_tokens=settings.model_max_tokens, name=name, repack=REPACK[settings.local_repack],
        state_dir=Path(settings.data_dir) / "llama",  # the evaluated opening, for the next start
    )), settings, parts)


@register("openai")
def _openai(spec: str, settings, parts) -> GenerativeReader:
    from qa.readers.chat import openai_model

    return _reader(openai_model(_required(spec, "openai"), settings), settings, parts)


@register("langchain")
def _langchain(spec: str, settings, parts) -> GenerativeReader:
    from qa.readers.chat import langchain_model

    return _reader(langchain_model(_required(spec, "langchain"), settings), settings, parts)


@register("transformers")
def _transformers(spec: str, settings, parts) -> GenerativeReader:
    from qa.readers.chat import transformers_model

    spec = _required(spec, "transformers")
    return _reader(LazyModel(f"transformers:{spec}", transformers_model(spec, settings)),
                   settings, parts)


def _required(spec: str, kind: str) -> str:
    if not spec:
        from qa.errors import ConfigError

        raise ConfigError(f"QA_ANSWER_MODEL={kind} needs ':<model>'")
    return spec


class LazyModel:
    """Build a model on first use: building the app stays cheap; warm_up or the first
    answer loads it."""

    def __init__(self, name: str, factory):
        self.name = name
        self._factory = factory
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:  # a slow load happens once, in one thread
            if self._model is None:
                self._model = self._factory()
            return self._model

    def generate(self, messages, **options):
        return self.model.generate(messages, **options)

    def warm_up(self, messages) -> None:
        """Build the model now, and warm it when it can be."""
        warm = getattr(self.model, "warm_up", None)
        if warm is not None:
            warm(messages)

    def close(self) -> None:
        """Free a built model; the next use builds it again."""
        with self._lock:
            model, self._model = self._model, None
        close_model(model)


def _reader(model, settings, parts) -> GenerativeReader:
    return GenerativeReader(model, parts.verifier, Abstainer.load(),
                            sentences=settings.evidence_sentences, words=settings.evidence_words,
                            order=ORDER if settings.evidence_order == "reader" else None,
                            policy=settings.unverified,
                            extractive=parts.extractive, queue=settings.model_queue,
                            article_text=lambda article_id: _text(parts.docs, article_id))


def _text(docs, article_id: str) -> str | None:
    found = docs.article(article_id)
    return found.text if found else None
