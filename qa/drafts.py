"""What a model wrote for each exact prompt, kept in a file and replayed.

A change to verification, the abstainer or the citation rules does not change what the
model writes for the same prompt, so it can be measured again from the saved drafts in a
minute instead of a model run of fifteen; only prompts never seen (the evidence changed) are
generated anew and added. Replayed drafts arrive whole: their latencies are not the model's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qa.readers.chat import Generation, close_model


class Drafts:
    """A chat model that answers from ``path`` when it has the prompt, else asks ``model``."""

    def __init__(self, model, path: Path | None):
        self.model, self.path, self.name = model, path, model.name
        self.saved = json.loads(path.read_text()) if path and path.exists() else {}
        self.replayed = self.generated = 0

    def generate(self, messages, **options):
        key = hashlib.sha256(json.dumps([messages, options.get("prefill")]).encode()).hexdigest()
        if key in self.saved:
            self.replayed += 1
        else:
            generation = self.model.generate(messages, **options)
            text = "".join(generation)
            self.saved[key] = {"text": text, "first_probs": generation.first_probs}
            self.generated += 1
            if self.path:
                self.path.write_text(json.dumps(self.saved))
        found = self.saved[key]
        return Generation(iter([found["text"]] if found["text"] else []),
                          dict(found["first_probs"]))

    def close(self) -> None:
        close_model(self.model)

    def describe(self) -> str:
        return f"drafts: {self.replayed} replayed, {self.generated} generated ({self.path})"


def replay(reader, path: Path | None) -> Drafts | None:
    """Make ``reader``'s model answer from the drafts in ``path`` (a reader without a model,
    the extractive one, is left alone)."""
    if path is None or getattr(reader, "model", None) is None:
        return None
    reader.model = Drafts(reader.model, path)
    return reader.model
