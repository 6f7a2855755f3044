"""Auto-instrumentation: every installed OpenInference instrumentor, found through the
`openinference_instrumentor` entry points their packages declare.

An instrumentor whose library is not installed (openinference-instrumentation-openai without
`openai`, say) is skipped quietly; one that fails to load or to instrument is logged and
skipped. Nothing here raises into the application.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from opentelemetry.trace import TracerProvider

log = logging.getLogger("ember_sdk")
ENTRY_POINT_GROUP = "openinference_instrumentor"


def auto_instrument(tracer_provider: TracerProvider | None = None) -> list[str]:
    """Instrument every installed OpenInference instrumentor with `tracer_provider` (the global
    one if None). Returns the entry point names (e.g. "openai", "langchain") now instrumented by
    this call, sorted; instrumentors already instrumented are left as they are."""
    done: list[str] = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            instrumentor = point.load()()
            if _is_instrumented(instrumentor):
                log.info("%s is already instrumented; left as it is", point.name)
                continue
            conflict = _missing_dependency(instrumentor)
            if conflict:
                log.debug("not instrumenting %s: %s", point.name, conflict)
                continue
            kwargs: dict[str, Any] = {"skip_dep_check": True}
            if tracer_provider is not None:
                kwargs["tracer_provider"] = tracer_provider
            instrumentor.instrument(**kwargs)
        except Exception as exc:  # a broken instrumentor must not stop the application
            log.warning("could not instrument %s: %s: %s", point.name, type(exc).__name__, exc)
            continue
        if _is_instrumented(instrumentor):
            done.append(point.name)
    return done


def _is_instrumented(instrumentor: Any) -> bool:
    return bool(getattr(instrumentor, "is_instrumented_by_opentelemetry", False))


def _missing_dependency(instrumentor: Any) -> str | None:
    """Why the instrumented library can't be instrumented (absent or a version the instrumentor
    does not support), or None."""
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    conflict = get_dependency_conflicts(instrumentor.instrumentation_dependencies())
    return str(conflict) if conflict else None
