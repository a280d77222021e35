"""Field types shared by the contract's models: each rule is written here once.

A rule that the server enforces is stated in the JSON schema as exactly as JSON Schema
allows, so a request the schema accepts is never refused for its shape and one it refuses
is always refused. Bounds that are settings (``Limit``) are checked against the settings
passed in the validation context and filled into ``/openapi.json`` from the same settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, PydanticKnownError, core_schema

from qa.settings import Settings

# What shows nothing: whitespace, control and format characters (zero-width marks, soft
# hyphens, direction controls) of the Basic Multilingual Plane, as a regex class body.
# tests/test_contract.py checks it against the Unicode categories.
INVISIBLE = (
    "\x00-\x20\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u1680\u180e"
    "\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff\ufff9-\ufffb"
)
VISIBLE = f"[^{INVISIBLE}]"
_VISIBLE = re.compile(VISIBLE)
# Letters, digits, '.', '_', '-', '/'; no '..'; written without lookahead for generators.
ARTICLE_ID_PATTERN = r"^[A-Za-z0-9](\.?[A-Za-z0-9_\-/])*\.?$"
ARTICLE_ID_MAX = 200
MAX_TURN_CHARS = 20_000
# Where an operation's limits wait in the generated schema until settings fill them in.
LIMITS_KEY = "x-limits"
_DEFAULTS: Settings | None = None


def settings_of(info: ValidationInfo | None) -> Settings:
    """The settings in the validation context, else the defaults."""
    global _DEFAULTS
    given = (info.context or {}).get("settings") if info is not None else None
    if given is not None:
        return given
    if _DEFAULTS is None:
        _DEFAULTS = Settings()
    return _DEFAULTS


def refuse(message: str, code: str | None = None) -> PydanticCustomError:
    """A validation error with a message for the client; ``code`` overrides the error code
    of the field it is raised for (``too_many_parts`` rather than ``invalid_question``)."""
    return PydanticCustomError("contract", message.replace("{", "(").replace("}", ")"),
                               {"code": code} if code else None)


@dataclass(frozen=True)
class Limit:
    """An upper bound that is a setting: ``keyword`` is maxLength, maxItems or maximum."""

    keyword: str
    setting: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict:
        out = handler(schema)
        out.setdefault(LIMITS_KEY, {})[self.keyword] = self.setting
        return out

    def check(self, value: Any, info: ValidationInfo) -> Any:
        bound = getattr(settings_of(info), self.setting)
        if self.keyword == "maximum":
            if value > bound:
                raise PydanticKnownError("less_than_equal", {"le": bound})
        elif len(value) > bound:
            kind = "string_too_long" if isinstance(value, str) else "too_long"
            raise PydanticKnownError(kind, {"max_length": bound, "field_type": "List",
                                            "actual_length": len(value)})
        return value


def fill_limits(schema: Any, settings: Settings) -> Any:
    """Fill ``schema`` in with the settings: each ``x-limits`` placeholder becomes its
    keyword, and ``{max_question_chars}`` in a description the setting's value."""
    if isinstance(schema, dict):
        limits = schema.pop(LIMITS_KEY, {})
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                schema[key] = _SETTING.sub(lambda m: _value(m, settings), value)
            else:
                fill_limits(value, settings)
        schema.update({keyword: getattr(settings, name) for keyword, name in limits.items()})
    elif isinstance(schema, list):
        for value in schema:
            fill_limits(value, settings)
    return schema


_SETTING = re.compile(r"\{(\w+)\}")


def _value(match: re.Match, settings: Settings) -> str:
    name = match.group(1)
    return str(getattr(settings, name)) if name in type(settings).model_fields else match[0]


def unicode_text(text: str) -> str:
    """Refuse lone surrogates (they cannot be stored or shown)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse("the text contains invalid Unicode (a lone surrogate)") from None
    return text


def without_controls(text: str) -> str:
    """Drop control characters (Unicode category Cc) other than newline and tab."""
    return _CONTROLS.sub("", text)


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def single_spaced(text: str) -> str:
    """Trim, and make each run of whitespace one space: a question is one line, and the
    rules that read it never meet a run of spaces to backtrack through ("compare" and
    2,000 spaces kept a request busy for two minutes)."""
    return " ".join(text.split())


def has_visible(text: str) -> bool:
    return _VISIBLE.search(text) is not None


def visible(text: str) -> str:
    if not has_visible(text):
        raise refuse("the text needs at least one visible character")
    return text


def _digits(value: Any) -> Any:
    # int() would also take " 5", "5_0" and non-ASCII digits; the schema says integer.
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+", value):
        raise PydanticKnownError("int_parsing")
    return value


def _article_id(value: str) -> str:
    if ".." in value:
        raise refuse("article_id must not contain '..'")
    return value


# Plain text from a client: no lone surrogates, control characters dropped.
Text = Annotated[str, AfterValidator(unicode_text), AfterValidator(without_controls)]
# Text with something to read in it.
VisibleText = Annotated[
    str, Field(json_schema_extra={"pattern": VISIBLE}), AfterValidator(unicode_text),
    AfterValidator(visible),
]
# A question, or a search query: checked before trimming, so the limit holds both ways.
QuestionText = Annotated[
    str,
    Field(min_length=1, json_schema_extra={"pattern": VISIBLE}),
    Limit("maxLength", "max_question_chars"),
    AfterValidator(unicode_text),
    AfterValidator(without_controls),
    AfterValidator(single_spaced),
    AfterValidator(visible),
]
ArticleId = Annotated[
    str,
    Field(pattern=ARTICLE_ID_PATTERN, max_length=ARTICLE_ID_MAX,
          description="1-200 letters, digits, '.', '_', '-' or '/'; no '..'; the article's "
                      "path relative to its folder, without the extension"),
    AfterValidator(_article_id),
]
# A whole number written in digits, as query parameters carry it.
QueryInt = Annotated[int, BeforeValidator(_digits)]
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"


def _iso_date(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(_DATE, value):
        raise refuse("dates are ISO 8601 calendar dates like 2024-09-01")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise refuse(f"{value} is not a day of the calendar") from None
    return value


def _published(value: str) -> str:
    """Keep an RFC 3339 date or date-time that names a real day and time."""
    try:
        if re.fullmatch(_DATE, value):
            date.fromisoformat(value)
            return value
        if re.fullmatch(_DATE + _TIME, value):
            datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            return value
    except ValueError:
        pass
    raise refuse("published must be an ISO 8601 date (2024-09-01) or date and time "
                 "(2024-09-01T12:00:00Z)")


# A calendar date written as YYYY-MM-DD.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# When an article was published: a date or a date and time, kept as given.
Published = Annotated[
    str,
    AfterValidator(_published),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"},
                              {"type": "string", "format": "date-time"}],
                    "description": "an ISO 8601 date (2024-09-01) or date and time"}),
]
_ARTICLE_IDS = TypeAdapter(ArticleId)


def is_article_id(value: str) -> bool:
    """Whether ``value`` keeps the article-id rule (for path parameters)."""
    try:
        _ARTICLE_IDS.validate_python(value)
    except ValueError:
        return False
    return True
