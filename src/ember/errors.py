"""Error types that carry their HTTP status, and the one JSON error envelope.

Every error a client can cause is an `EmberError` subclass; the API turns it into
`{"error": {"status": ..., "code": ..., "message": ...}}` with the status it carries.
"""

from __future__ import annotations

from typing import Any


class EmberError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def envelope(self) -> dict[str, Any]:
        return {"error": {"status": self.status, "code": self.code, "message": self.message}}


class SettingsError(EmberError):
    code = "bad_setting"


class BadRequest(EmberError):
    status = 400
    code = "bad_request"


class DecodeError(BadRequest):
    """The OTLP body could not be decoded; the message says what is wrong."""

    code = "undecodable"


class NotFound(EmberError):
    status = 404
    code = "not_found"


class PayloadTooLarge(EmberError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(EmberError):
    status = 415
    code = "unsupported_media_type"


class Unavailable(EmberError):
    """Retryable: the ingest queue is full or the store could not commit."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class QueueFull(Unavailable):
    code = "queue_full"


class StoreUnavailable(Unavailable):
    code = "store_unavailable"


class Conflict(EmberError):
    """The request would break a uniqueness rule (a project name that is taken)."""

    status = 409
    code = "conflict"
