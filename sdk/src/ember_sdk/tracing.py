"""OpenInference's tracer decorators, usable before or after register().

`chain`, `agent`, `tool`, `llm` and `retriever` are the methods of one OpenInference `OITracer`
(openinference-instrumentation's, not rewritten here) over an OpenTelemetry `ProxyTracer`,
which sends to whatever provider is global when a decorated function runs: decorating at import
time, before register(), works, and nothing is recorded until a provider is set.

With a provider of your own, use its tracer instead: `provider.get_tracer(__name__).chain`.
"""

from __future__ import annotations

from openinference.instrumentation import OITracer, TraceConfig
from opentelemetry.trace import ProxyTracer

tracer = OITracer(ProxyTracer("ember_sdk"), config=TraceConfig())

chain = tracer.chain
agent = tracer.agent
tool = tracer.tool
llm = tracer.llm
retriever = tracer.retriever
