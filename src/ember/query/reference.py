"""docs/query.md, built from the filter language's reference (ember.query.parse's docstring)
and the routes that take filters, so the page never drifts from the parser.

Regenerate:
    python -c "from ember.query.reference import markdown; print(markdown(), end='')" \\
        > docs/query.md
"""

from __future__ import annotations

import inspect

from ember.query import parse

_ROUTES = """\
## Where filters go

- Spans: `GET /v1/projects/{project}/spans?filter=...`, beside Phoenix's `attribute=key:value`
  (repeatable), `trace_id`, `span_kind`, `status_code`, `parent_id=null`, `start_time` and
  `end_time`.
- Span queries, as DataFrames: `POST /v1/spans` with
  `{"queries": [{"filter": {"condition": "..."}, "select": ..., "explode": ...}]}` (Phoenix's
  `SpanQuery`, with `concat`, `rename` and `index` too), answered as Arrow IPC or, with
  `Accept: application/json`, as pandas table JSON.
- Traces: `GET /v1/projects/{project}/traces?filter=...&sort=...&order=...` (trace filters).
- Sessions: `GET /v1/projects/{project}/sessions?filter=...` (session filters).

A bad filter is a 400 whose message says what is wrong and where (line:column), with the
closest known name when a name looks like a typo.

## How a filter runs

The store compiles a filter to parameterised SQL (SQLite and PostgreSQL alike; no text of the
filter ever becomes SQL). Short attribute values live in a JSON column the SQL reads; long
values (more than 64 characters of text, lists, list members such as
`llm.input_messages.0.message.content`) live compressed beside it. A condition that only a long
value could satisfy (`'refund' in input.value`, `x != 'a'`) is checked in Python on the rows the
SQL part lets through, with the same three-valued logic.

Every filtered listing answers within a bounded amount of work per request. Sorted by a key an
index serves (start time; for traces also latency, cost, tokens and span count), it looks at
the next 50,000 rows in that order, and checks at most 4,000 of them in Python. Where the
page is not full by then, it comes back short, even empty, with a `next_cursor` to go on from:
follow cursors until `next_cursor` is null; nothing is dropped. A filter an index answers
directly (`span_id`, `trace_id` or `user.id` equal to a value; on PostgreSQL also a short
attribute equal to a value, through a GIN index) finds a rare value at once.

Known difference: on SQLite, `in` folds ASCII letters only when ignoring case in the SQL part.
"""


def markdown() -> str:
    reference = inspect.cleandoc(parse.__doc__ or "")
    title, _, body = reference.partition("\n")
    return (
        "# The filter language\n\n"
        "<!-- Generated from ember/query/parse.py and ember/query/reference.py; "
        "see tests/query/test_reference_doc.py. -->\n\n"
        f"{title}\n\n{_ROUTES}\n## Reference\n\n```text\n{body.strip()}\n```\n"
    )
