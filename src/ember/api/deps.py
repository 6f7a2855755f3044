"""What the Phoenix-compatible route modules share: the store, a project or other object named
by its name, its GlobalID or its own id, times, and Phoenix's 422 for a request that names
nothing to act on."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from ember.api.shapes import parse_global_id
from ember.errors import BadRequest
from ember.model import Project
from ember.store.base import Store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def project_of(store: Store, identifier: str) -> Project:
    """A project by name, GlobalID or row id; raises NotFound."""
    rowid = parse_global_id(identifier, "Project")
    return store.get_project(str(rowid) if rowid is not None else identifier)


def unix_nano(value: datetime | None, name: str) -> int | None:
    """A time parameter as unix nanoseconds; it must say its time zone (a naive time would be
    read in whatever zone the server runs in)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadRequest(f"{name} must carry a time zone, e.g. 2026-01-01T00:00:00Z")
    # Integer arithmetic: a float timestamp can be a microsecond off at today's magnitudes.
    return (value - _EPOCH) // _MICROSECOND * 1000


def ms_to_ns(value: float | None, name: str, *, upper: bool) -> int | None:
    """A latency bound in milliseconds as whole nanoseconds, rounded so that the inclusive
    bound keeps exactly the latencies it admits."""
    if value is None:
        return None
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"{name} must be a finite number >= 0, got {value}")
    ns = value * 1e6
    return math.floor(ns) if upper else math.ceil(ns)


def unprocessable(location: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 in the same envelope as FastAPI's own validation errors (Phoenix answers 422 to
    a request that is well-formed but names nothing to act on)."""
    return RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])
