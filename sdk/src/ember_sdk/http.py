"""HTTP to an Ember server for the client: JSON GETs and OTLP posts with retries, and errors
that say what went wrong in words a user can act on."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

# Answers that mean "try again later": the server's queue is full (503 with Retry-After), or
# something between the client and the server is (429, 502, 504).
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class ClientError(Exception):
    """A request to Ember failed; the message says which and why."""


def error_text(response: httpx.Response) -> str:
    """The server's error message: Ember's JSON error envelope, an OTLP `google.rpc.Status`
    in JSON, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for key in ("message", "detail"):
            if body.get(key):
                return str(body[key])
    return str(body)[:500]


def get_json(http: httpx.Client, path: str, params: Mapping[str, Any] | None = None) -> Any:
    """GET a JSON document, or raise ClientError saying what the server answered."""
    try:
        response = http.get(path, params=params)
    except httpx.HTTPError as exc:
        raise ClientError(f"cannot reach Ember at {http.base_url}: {exc}") from exc
    if response.status_code != 200:
        raise ClientError(
            f"GET {path} answered {response.status_code}: {error_text(response)}"
        )
    return response.json()


def post_json(
    http: httpx.Client, path: str, body: Any, params: Mapping[str, Any] | None = None
) -> httpx.Response:
    """POST a JSON body and return the 200 answer, or raise ClientError as `get_json` does."""
    try:
        response = http.post(path, params=params, json=body)
    except httpx.HTTPError as exc:
        raise ClientError(f"cannot reach Ember at {http.base_url}: {exc}") from exc
    if response.status_code != 200:
        raise ClientError(
            f"POST {path} answered {response.status_code}: {error_text(response)}"
        )
    return response


def post_with_retries(
    http: httpx.Client,
    path: str,
    content: bytes,
    headers: Mapping[str, str],
    *,
    max_attempts: int = 20,
    max_delay_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """POST `content`, retrying while the server is busy (`RETRY_STATUSES`, waiting what its
    Retry-After says, else an exponential backoff with jitter) or unreachable for a moment.
    Returns the first other answer; raises ClientError when the attempts run out."""
    delay = 0.5
    last = ""
    for attempt in range(1, max_attempts + 1):
        try:
            response = http.post(path, content=content, headers=dict(headers))
        except httpx.TransportError as exc:
            last = f"cannot reach Ember at {http.base_url}: {exc}"
            retry_after = None
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            last = f"{response.status_code}: {error_text(response)}"
            retry_after = _retry_after(response.headers.get("retry-after"))
        if attempt == max_attempts:
            break
        wait = retry_after if retry_after is not None else delay * (0.5 + random.random())
        sleep(min(wait, max_delay_s))
        delay = min(delay * 2, max_delay_s)
    raise ClientError(f"POST {path} failed after {max_attempts} attempts; last answer {last}")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None  # an HTTP date: fall back to the backoff
