"""Charts of a project's metrics as inline SVG, drawn on the server (pure; no chart library).

Each chart is one `<svg>` with a bar or a point per time bucket. Every mark carries its value
and bucket start as `data-value` / `data-start` (tests read them against the REST API) and a
`<title>` (the browser's tooltip). Text in a chart is escaped; colours come from classes in
static/ember.css, since the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from ember.cost.compute import usd
from ember.model import iso_time
from ember.store.metrics import Aggregate, ProjectMetrics
from ember.ui.format import count
from ember.ui.format import usd as usd_text

WIDTH = 560
HEIGHT = 170
LEFT = 64  # room for the y-axis labels
RIGHT = 10
TOP = 12
BOTTOM = 24  # room for the x-axis labels

Value = float | None


@dataclass(frozen=True, slots=True)
class Series:
    key: str  # data-series, and the class that colours it
    label: str
    values: list[Value]


@dataclass(frozen=True, slots=True)
class Chart:
    metric: str  # data-metric: which chart (tests and CSS find it by this)
    title: str
    total: str  # the range's total or overall figure, as text
    svg: Markup


def _x_label(unix_ns: int, span_ns: int) -> str:
    moment = datetime.fromtimestamp(unix_ns / 1e9, tz=UTC)
    if span_ns <= 3600 * 10**9:
        return f"{moment:%H:%M:%S}"
    if span_ns <= 2 * 86400 * 10**9:
        return f"{moment:%H:%M}"
    return f"{moment:%b %d}"


def _number(value: float) -> str:
    """A value as data-value carries it: integers plainly, other numbers in full."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def draw(
    starts: Sequence[int],
    bucket_ns: int,
    series: Sequence[Series],
    kind: str,
    fmt: Callable[[float], str],
) -> Markup:
    """An SVG chart: bars (one series) or lines with points, over buckets starting at `starts`."""
    n = max(len(starts), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    present = [v for s in series for v in s.values if v is not None]
    top = max(present, default=0.0) or 1.0
    slot = plot_w / n

    def y(value: float) -> float:
        return TOP + plot_h - value / top * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<line class="chart-axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<line class="chart-grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<text class="chart-label" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">'
        f"{escape(fmt(top) if present else '')}</text>",
        f'<text class="chart-label" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    if starts:
        whole = starts[-1] + bucket_ns - starts[0]
        for index in sorted({0, n // 2, n - 1}):
            anchor = "start" if index == 0 else ("end" if index == n - 1 else "middle")
            x = LEFT + slot * index + (0 if index == 0 else slot if index == n - 1 else slot / 2)
            parts.append(
                f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                f"{escape(_x_label(starts[index] + (bucket_ns if index == n - 1 else 0), whole))}"
                "</text>"
            )
    for one in series:
        points: list[str] = []
        for index, (at, value) in enumerate(zip(starts, one.values, strict=True)):
            if value is None:
                continue
            start = iso_time(at)
            title = f"{one.label} {fmt(value)} · from {start}"
            data = f'data-series="{one.key}" data-start="{start}" data-value="{_number(value)}"'
            if kind == "bar":
                height = max(plot_h - (y(value) - TOP), 1.0 if value else 0.0)
                parts.append(
                    f'<rect class="chart-mark series-{one.key}" {data} '
                    f'x="{LEFT + slot * index + slot * 0.1:.1f}" y="{TOP + plot_h - height:.1f}" '
                    f'width="{max(slot * 0.8, 1):.1f}" height="{height:.1f}">'
                    f"<title>{escape(title)}</title></rect>"
                )
            else:
                cx, cy = LEFT + slot * index + slot / 2, y(value)
                points.append(f"{cx:.1f},{cy:.1f}")
                parts.append(
                    f'<circle class="chart-mark series-{one.key}" {data} cx="{cx:.1f}" '
                    f'cy="{cy:.1f}" r="3"><title>{escape(title)}</title></circle>'
                )
        if len(points) > 1:
            parts.append(
                f'<polyline class="chart-line series-{one.key}" points="{" ".join(points)}"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _tokens(value: float) -> str:
    return count(value)


def _series(aggregates: Sequence[Aggregate], field: str) -> list[Value]:
    out: list[Value] = []
    for item in aggregates:
        value = getattr(item, field)
        out.append(None if value is None else float(value))
    return out


def charts(metrics: ProjectMetrics) -> list[Chart]:
    """The metrics page's charts: trace count, error rate, latency p50/p99, tokens, cost."""
    starts = [at for at, _ in metrics.series]
    aggregates = [value for _, value in metrics.series]
    totals = metrics.totals
    bucket = metrics.bucket_ns

    def one(metric: str, title: str, total: str, kind: str, fmt: Callable[[float], str],
            *series: Series) -> Chart:
        return Chart(metric, title, total, draw(starts, bucket, series, kind, fmt))

    costs = [usd(item.cost) for item in aggregates]
    rate = totals.error_rate
    return [
        one("trace_count", "Traces", count(totals.trace_count), "bar", count,
            Series("trace_count", "traces", _series(aggregates, "trace_count"))),
        one("error_rate", "Error rate", "—" if rate is None else _percent(rate), "line", _percent,
            Series("error_rate", "error rate", _series(aggregates, "error_rate"))),
        one("latency", "Latency p50 / p99",
            " / ".join(_ms(v) if v is not None else "—"
                       for v in (totals.latency_ms_p50, totals.latency_ms_p99)),
            "line", _ms,
            Series("latency_ms_p50", "p50", _series(aggregates, "latency_ms_p50")),
            Series("latency_ms_p99", "p99", _series(aggregates, "latency_ms_p99"))),
        one("total_tokens", "Tokens", count(totals.total_tokens), "bar", _tokens,
            Series("total_tokens", "tokens", _series(aggregates, "total_tokens"))),
        one("cost", "Cost", usd_text(usd(totals.cost)), "bar", usd_text,
            Series("cost", "cost", [float(c) for c in costs])),
    ]
