"""The two kinds of contract model: what clients send (``Request``) and what they get back
(``Reply``). A request's validation errors become the contract's error codes and messages."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_serializer

from qa.errors import InvalidRequest
from qa.settings import Settings


class Request(BaseModel):
    """A request body or query string; ``parse`` turns bad input into ``InvalidRequest``."""

    model_config = ConfigDict(extra="ignore")

    error_code: ClassVar[str] = "invalid_request"
    # The code, and the message template (filled with the settings), of each field's errors.
    field_codes: ClassVar[dict[str, str]] = {}
    field_messages: ClassVar[dict[str, str]] = {}
    shape_message: ClassVar[str] = "the body must be a JSON object"

    @classmethod
    def parse(cls, data: Any, settings: Settings) -> Self:
        """Validate ``data`` against the contract and the limits in ``settings``."""
        try:
            return cls.model_validate(data, context={"settings": settings})
        except ValidationError as exc:
            code, message = cls.problem(exc.errors(include_url=False)[0], settings)
            raise InvalidRequest(message, code=code) from None

    @classmethod
    def problem(cls, error: Any, settings: Settings) -> tuple[str, str]:
        """Return the error code and the client's message for one validation error."""
        loc = error["loc"]
        field = str(loc[0]) if loc else None
        ours = error["type"] == "contract"  # raised by the contract's own rules (``refuse``)
        own_code = (error.get("ctx") or {}).get("code") if ours else None
        code = own_code or cls.field_codes.get(field or "", cls.error_code)
        if own_code:
            return code, error["msg"]
        if field is None:
            return code, error["msg"] if ours else cls.shape_message
        # A field's own message states its limits; a value that is missing, not text at
        # all, or wrong in a way of its own is told so instead.
        if error["type"] == "missing":
            return code, f"{_where(loc)} is required"
        if error["type"] in KINDS:
            return code, f"{_where(loc)} {KINDS[error['type']]}"
        if ours and error["msg"].startswith(ANY_TEXT):
            # A rule every text field shares, said of this one: its length limits would
            # not say what is wrong.
            return code, rule_of(_where(loc), error["msg"])
        if field in cls.field_messages:
            return code, cls.field_messages[field].format(**settings.model_dump())
        return code, f"{_where(loc)}: {error['msg']}"


class Reply(BaseModel):
    """A response; fields named in ``omit_none`` are left out when they are None, every
    other field is always present (and required in the schema)."""

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)

    omit_none: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        if handler.mode == "serialization" and "required" in target:
            target["required"] = [f for f in target["required"] if f not in cls.omit_none]
        return schema

    # No return annotation: with one, pydantic would describe the output by it, not by
    # the model's fields.
    @model_serializer(mode="wrap")
    def _omit(self, handler):
        data = handler(self)
        for key in self.omit_none:
            if data.get(key, 0) is None:
                del data[key]
        return data


# A value of the wrong kind altogether, told in the contract's words, not the validator's.
KINDS = {
    "string_type": "must be a string",
    "string_unicode": "contains invalid Unicode (a lone surrogate)",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object", "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "int_type": "must be a whole number", "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
}


ANY_TEXT = "the text "  # how the shared text rules (``qa.contract.fields``) name their field


def rule_of(where: str, rule: str) -> str:
    """A contract rule said of the field at ``where``: "question needs at least one
    visible character" for the shared "the text needs ..."."""
    return f"{where} {rule.removeprefix(ANY_TEXT)}" if rule.startswith(ANY_TEXT) else (
        f"{where}: {rule}")


def _where(loc: tuple) -> str:
    """``("history", 0, "role")`` -> ``history[0].role``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
