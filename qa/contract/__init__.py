"""The service's contract as code: every request, response, event and error, once.

Validation (``Request.parse``), error codes and messages, and ``/openapi.json`` all come
from these models; the answering library takes ``AskRequest`` and returns ``AskResponse``.
"""

from qa.contract.ask import (
    EVENTS,
    AskBody,
    AskRequest,
    AskResponse,
    Citation,
    Filters,
    HistoryTurn,
    Passage,
)
from qa.contract.base import Reply, Request
from qa.contract.status import ErrorBody, ErrorDetail

__all__ = [
    "EVENTS", "AskBody", "AskRequest", "AskResponse", "Citation", "ErrorBody", "ErrorDetail",
    "Filters", "HistoryTurn", "Passage", "Reply", "Request",
]
