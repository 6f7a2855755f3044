"""ember-sdk: the light distribution an instrumented application installs.

    from ember_sdk import register
    register(project_name="my-rag", auto_instrument=True)

- `register()` (ember_sdk.otel): an OpenTelemetry TracerProvider exporting to Ember.
- `auto_instrument()` (ember_sdk.instrument): every installed OpenInference instrumentor.
- `Client` (ember_sdk.client): Ember's REST API: spans, traces and sessions as DataFrames,
  annotations logged from a DataFrame, export and import.
- OpenInference's helpers, re-exported as they are from openinference-instrumentation:
  `using_session`, `using_user`, `using_metadata`, `using_tags`, `using_prompt_template`,
  `using_attributes`, `suppress_tracing`, and the tracer decorators `chain`, `agent`, `tool`,
  `llm`, `retriever` (ember_sdk.tracing).

It never depends on the server's packages. Names are loaded on first use, so importing
ember_sdk (for its Client, say) does not import OpenTelemetry's SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openinference.instrumentation import (
        suppress_tracing,
        using_attributes,
        using_metadata,
        using_prompt_template,
        using_session,
        using_tags,
        using_user,
    )

    from ember_sdk.client import Client
    from ember_sdk.instrument import auto_instrument
    from ember_sdk.otel import register
    from ember_sdk.tracing import agent, chain, llm, retriever, tool

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Client": "ember_sdk.client",
    "register": "ember_sdk.otel",
    "auto_instrument": "ember_sdk.instrument",
    "chain": "ember_sdk.tracing",
    "agent": "ember_sdk.tracing",
    "tool": "ember_sdk.tracing",
    "llm": "ember_sdk.tracing",
    "retriever": "ember_sdk.tracing",
    **dict.fromkeys(
        (
            "using_session", "using_user", "using_metadata", "using_tags",
            "using_prompt_template", "using_attributes", "suppress_tracing",
        ),
        "openinference.instrumentation",
    ),
}

__all__ = [
    "Client",
    "agent",
    "auto_instrument",
    "chain",
    "llm",
    "register",
    "retriever",
    "suppress_tracing",
    "tool",
    "using_attributes",
    "using_metadata",
    "using_prompt_template",
    "using_session",
    "using_tags",
    "using_user",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ember_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
