"""Prompt templates as files with strict variables: ``prompts/<name>.txt``."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from qa.errors import ConfigError
from qa.readers.chat import Message

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
# Chat-template control tokens written into text ("<|im_start|>") would become real ones
# when the prompt is tokenised: untrusted text never carries them.
_CONTROL = re.compile(r"<\|[^|<>]{0,40}\|>|</?s>|\[/?INST\]", re.IGNORECASE)


@dataclass(frozen=True)
class Prompt:
    """A prompt file with ``=== system ===`` and ``=== user ===`` parts and strict variables.

    A file with only a user part is a turn for another prompt's system turn to precede: the
    model then re-uses that opening from its cache instead of evaluating another."""

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
        if set(sections) not in ({"system", "user"}, {"user"}):
            raise ConfigError(f"{path} needs an '=== user ===' part, after an optional "
                              "'=== system ===' one")
        found = {f for text in sections.values()
                 for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        if found != variables:
            raise ConfigError(f"{path} uses {sorted(found)}; the code fills {sorted(variables)}")
        return cls(name, sections.get("system", ""), sections["user"], frozenset(variables))

    def messages(self, **values: str) -> list[Message]:
        """Fill the template; the values are untrusted text and lose any control tokens."""
        if set(values) != self.variables:
            raise ValueError(f"prompt {self.name} takes exactly {sorted(self.variables)}")
        clean = {k: _CONTROL.sub("", v) for k, v in values.items()}
        user: Message = ("human", self.user.format(**clean).strip())
        return [("system", self.system.format(**clean)), user] if self.system else [user]
