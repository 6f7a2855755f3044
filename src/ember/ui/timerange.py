"""The time range of the projects, project and metrics pages, as the URL carries it (pure).

`?range=15m|1h|1d|7d|30d|all` (a preset ending now), or `?range=custom&from=<ISO>&to=<ISO>`
(either end may be left open). static/lib/timerange.js reads the same parameters in the
browser, so a shared link shows the same range on every page. A range is on start times:
[start, end), as the REST listings and the metrics route take it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ember.errors import BadRequest

PRESETS: dict[str, int | None] = {
    "15m": 15 * 60,
    "1h": 3600,
    "1d": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "all": None,
}
LABELS = {
    "15m": "Last 15 minutes", "1h": "Last hour", "1d": "Last day", "7d": "Last 7 days",
    "30d": "Last 30 days", "all": "All time", "custom": "Custom range",
}
DEFAULT = "all"


@dataclass(frozen=True, slots=True)
class TimeRange:
    key: str  # a preset or "custom"
    start_ns: int | None
    end_ns: int | None
    start_text: str = ""  # the custom range's ends as the URL gave them
    end_text: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.key]


def _parse_time(text: str, name: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{name}={text!r} is not a time: write ISO 8601, e.g. 2026-01-01T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the browser sends UTC
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def resolve(key: str | None, start: str | None, end: str | None, now_ns: int) -> TimeRange:
    """The range the parameters name; BadRequest says what is wrong with them."""
    key = key or DEFAULT
    if key == "custom":
        start_ns = _parse_time(start, "from") if start else None
        end_ns = _parse_time(end, "to") if end else None
        if start_ns is not None and end_ns is not None and end_ns <= start_ns:
            raise BadRequest("the custom range ends before it starts: 'to' must follow 'from'")
        return TimeRange("custom", start_ns, end_ns, start or "", end or "")
    if key not in PRESETS:
        raise BadRequest(
            f"range={key!r} is not a time range: one of {', '.join(PRESETS)} or custom"
        )
    seconds = PRESETS[key]
    if seconds is None:
        return TimeRange(key, None, None)
    return TimeRange(key, now_ns - seconds * 1_000_000_000, None)
