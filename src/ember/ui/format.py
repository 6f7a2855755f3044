"""How numbers, times and sizes read on every page (Jinja filters; pure).

static/lib/format.js writes the same forms in the browser, so a latency reads alike in the
tree (drawn by script) and in the span detail (drawn here).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime


def duration(ns: int | float | None) -> str:
    """1.23 s, 123 ms, 12.3 ms, 850 µs, 120 ns."""
    if ns is None:
        return ""
    value = float(ns)
    if value < 0:
        return "-" + duration(-value)
    if value >= 60e9:
        # Round to whole seconds first, so 3599.6 s reads "60 min 0 s", never "59 min 60 s".
        minutes, seconds = divmod(round(value / 1e9), 60)
        return f"{minutes} min {seconds} s"
    if value >= 1e9:
        return f"{value / 1e9:.2f} s"
    if value >= 1e7:
        return f"{value / 1e6:.0f} ms"
    if value >= 1e6:
        return f"{value / 1e6:.1f} ms"
    if value >= 1e3:
        return f"{value / 1e3:.0f} µs"
    return f"{value:.0f} ns"


def count(value: int | float | None) -> str:
    """A count with thousands separators: 12,345."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def usd(value: float | None) -> str:
    """$1.23, $0.0123, $0.000012, $0.00000020: two significant digits at least, so small
    costs can be told apart and never read as zero."""
    if value is None:
        return ""
    if value == 0:
        return "$0"
    magnitude = abs(value)
    if magnitude >= 1:
        return f"${value:,.2f}"
    if magnitude >= 0.01:
        return f"${value:.4f}"
    decimals = min(12, 1 - math.floor(math.log10(magnitude)))
    return f"${value:.{decimals}f}"


def size(chars: int) -> str:
    """A text length as a reader thinks of it: 850 characters, 12 KB, 1.2 MB."""
    if chars < 1000:
        return f"{chars} characters"
    if chars < 1_000_000:
        return f"{chars / 1000:.0f} KB"
    return f"{chars / 1_000_000:.1f} MB"


def timestamp(unix_ns: int | None) -> str:
    """UTC time with all nine digits of the nanoseconds: 2026-01-01 12:00:00.123456789 UTC."""
    if unix_ns is None:
        return ""
    seconds, nanos = divmod(int(unix_ns), 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{nanos:09d} UTC"


FILTERS = {
    "duration": duration,
    "count": count,
    "usd": usd,
    "size": size,
    "timestamp": timestamp,
}
