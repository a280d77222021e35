"""A follow-up rewritten by the answer model into a question that stands alone.

"who's she playing next?" becomes "Who is Daniela Hantuchova playing next?": what is
searched for, and what the model then reads instead of the chat. The rewrite turn follows
the answer prompt's system turn, which the model holds in its cache, so it costs only its
own tokens (~1.7 s on two cores). A rewrite that fails, is late or drops the follow-up's
words leaves the question to the rules (``qa.condense``).
"""

from __future__ import annotations

import logging

from qa.condense import Turn, accepted, last_exchange
from qa.errors import ModelError
from qa.prompt import Prompt
from qa.readers.chat import Message

log = logging.getLogger(__name__)

PREFILL = "Standalone question:"


class Rewriter:
    """The rewrite prompt, filled from the chat and run on the reader's current model."""

    def __init__(self, opening: list[Message]):
        self.opening = opening  # the answer prompt's system turn
        self.prompt = Prompt.load("condense", {"history", "question"})

    def __call__(self, model, question: str, history: list[Turn],
                 deadline: float) -> str | None:
        messages = [*self.opening, *self.prompt.messages(history=chat(history),
                                                         question=question)]
        try:
            raw = "".join(model.generate(messages, deadline=deadline, prefill=PREFILL))
        except ModelError as exc:
            log.info("follow-up left to the rules: %s (%s)", exc.message, exc.code)
            return None
        return accepted(question, raw.strip().removeprefix(PREFILL))


def chat(history: list[Turn]) -> str:
    """The last exchange, one line per turn."""
    return "\n".join(f"{'User' if t.role == 'user' else 'Answer'}: {t.content}"
                     for t in last_exchange(history))
