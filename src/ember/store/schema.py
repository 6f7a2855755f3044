"""The database schema, in SQLAlchemy Core. Alembic migrations (store/migrations) create it.

Layout choices, for the write budget and the disk budget:
- ids are lowercase hex text, as users see them; a span points at its trace by integer row id.
- `spans.attributes` is JSON text of the *small* attribute values (numbers, flags, names, short
  strings), so filters can reach them with the database's JSON functions; long strings, long
  arrays and kvlists go with events and links into `spans.payload`, a zstd-compressed JSON
  document (see store/codec.py). Both together are exactly what was sent.
- resources and scopes repeat on every span of a batch: each distinct one is stored once.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite's INTEGER PRIMARY KEY is the rowid; BigInteger keeps PostgreSQL at 64 bits.
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("description", sa.String, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # The project's retention policy; both NULL means the server's default applies.
    sa.Column("retention_days", sa.Integer, nullable=True),
    sa.Column("retention_max_traces", sa.Integer, nullable=True),
    sa.Column("retention_set", sa.Boolean, nullable=False, server_default=sa.false()),
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(32), nullable=False, unique=True),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("attribute_types", sa.Text, nullable=True),
    sa.Column("schema_url", sa.String, nullable=False, server_default=""),
    sa.Column("dropped_attributes_count", sa.Integer, nullable=False, server_default="0"),
)

scopes = sa.Table(
    "scopes",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("version", sa.String, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("attribute_types", sa.Text, nullable=True),
    sa.Column("schema_url", sa.String, nullable=False, server_default=""),
    sa.Column("dropped_attributes_count", sa.Integer, nullable=False, server_default="0"),
)

traces = sa.Table(
    "traces",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("trace_id", sa.String(32), nullable=False, unique=True),
    sa.Column("project_id", sa.BigInteger, nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=False),
    sa.Column("span_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    # Tokens of the trace's LLM spans only: agent and chain spans may carry run totals.
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("total_tokens", sa.BigInteger, nullable=False, server_default="0"),
    # The root: the earliest span without a parent (by start time, then span id).
    sa.Column("root_span_id", sa.String(16), nullable=True),
    sa.Column("root_start_time", sa.BigInteger, nullable=True),
    sa.Column("root_name", sa.String, nullable=True),
    sa.Column("root_span_kind", sa.String, nullable=True),
    sa.Column("input_preview", sa.String, nullable=True),
    sa.Column("output_preview", sa.String, nullable=True),
    # The smallest session.id / user.id among the trace's spans (order-free by construction).
    sa.Column("session_id", sa.String, nullable=True),
    sa.Column("user_id", sa.String, nullable=True),
    # Pico-dollars (1e-12 USD, exact integer sums) over LLM and EMBEDDING spans, and how many of
    # those used tokens but have no price.
    sa.Column("cost", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("unpriced_spans", sa.Integer, nullable=False, server_default="0"),
    sa.Index(None, "project_id", "start_time"),
    sa.Index(
        "ix_traces_session",
        "project_id",
        "session_id",
        "start_time",
        sqlite_where=sa.text("session_id IS NOT NULL"),
        postgresql_where=sa.text("session_id IS NOT NULL"),
    ),
)
# The listings' sorts (store/listings.py); each ends with the row id, as keyset pages order.
sa.Index("ix_traces_latency", traces.c.project_id, traces.c.end_time - traces.c.start_time,
         traces.c.id)
sa.Index("ix_traces_cost", traces.c.project_id, traces.c.cost, traces.c.id)
sa.Index("ix_traces_tokens", traces.c.project_id, traces.c.total_tokens, traces.c.id)
sa.Index("ix_traces_span_count", traces.c.project_id, traces.c.span_count, traces.c.id)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.BigInteger, nullable=False),
    sa.Column("session_id", sa.String, nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=False),
    sa.Column("trace_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("total_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("first_input", sa.String, nullable=True),
    sa.Column("last_output", sa.String, nullable=True),
    sa.Column("user_id", sa.String, nullable=True),
    sa.Column("cost", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("unpriced_spans", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("project_id", "session_id"),
    sa.Index(None, "project_id", "start_time"),
)

spans = sa.Table(
    "spans",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("trace_rowid", sa.BigInteger, nullable=False),
    sa.Column("project_id", sa.BigInteger, nullable=False),
    sa.Column("span_id", sa.String(16), nullable=False),
    sa.Column("parent_id", sa.String(16), nullable=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("otel_kind", sa.SmallInteger, nullable=False),
    sa.Column("span_kind", sa.String, nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=False),
    sa.Column("status_code", sa.SmallInteger, nullable=False),
    sa.Column("status_message", sa.String, nullable=False),
    sa.Column("session_id", sa.String, nullable=True),
    sa.Column("user_id", sa.String, nullable=True),
    sa.Column("model_name", sa.String, nullable=True),
    sa.Column("provider", sa.String, nullable=True),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=True),
    sa.Column("completion_tokens", sa.BigInteger, nullable=True),
    sa.Column("total_tokens", sa.BigInteger, nullable=True),
    sa.Column("cost", sa.BigInteger, nullable=True),  # pico-dollars
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("resource_id", sa.BigInteger, nullable=False),
    sa.Column("scope_id", sa.BigInteger, nullable=False),
    sa.Index(None, "trace_rowid", "span_id", unique=True),
    sa.Index(None, "project_id", "start_time"),
    sa.Index(None, "span_id"),
    sa.Index(
        "ix_spans_user",
        "project_id",
        "user_id",
        "start_time",
        sqlite_where=sa.text("user_id IS NOT NULL"),
        postgresql_where=sa.text("user_id IS NOT NULL"),
    ),
)
# PostgreSQL: `attr == value` on a short attribute is also compiled as JSON containment, which
# this index serves (store/filters.py).
sa.Index(
    "ix_spans_attributes",
    sa.cast(spans.c.attributes, JSONB).label("attributes_jsonb"),
    postgresql_using="gin",
    postgresql_ops={"attributes_jsonb": "jsonb_path_ops"},
).ddl_if(dialect="postgresql")

# Log records tied to a span (GenAI message events). They may arrive before or after their span,
# so they point at it by its OTLP ids, not by row id; the span's derived data is recomputed
# from them whichever comes first.
span_logs = sa.Table(
    "span_logs",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(32), nullable=False, unique=True),
    sa.Column("trace_id", sa.String(32), nullable=False),
    sa.Column("span_id", sa.String(16), nullable=False),
    sa.Column("time_unix_nano", sa.BigInteger, nullable=False),
    sa.Column("event_name", sa.String, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # codec.encode_document(...)
    sa.Column("resource_id", sa.BigInteger, nullable=False),
    sa.Column("scope_id", sa.BigInteger, nullable=False),
    sa.Index(None, "trace_id", "span_id"),
)

# Annotations (evaluations) of spans, traces, sessions and retrieved documents. They point at
# their target by the ids users see (hex span/trace id, the session's own id), never by row id:
# an annotation may arrive before its span and is kept; its project is the target's, found when
# it is read. One row per (target, name, identifier): a second write of the same key updates it.
# The unique index also serves lookups by (target_kind, target_id, name), as the filter
# language's `annotations['name'].label == ...` needs.
# (Named `annotation_table` here: `annotations` is taken by `from __future__ import annotations`.)
annotation_table = sa.Table(
    "annotations",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("target_kind", sa.String(8), nullable=False),  # span, trace, session, document
    sa.Column("target_id", sa.String, nullable=False),
    # A retrieved document's position in its span; -1 for every other kind (never NULL, so the
    # unique key holds on every backend).
    sa.Column("document_position", sa.Integer, nullable=False, server_default="-1"),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("label", sa.String, nullable=True),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("explanation", sa.Text, nullable=True),
    sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),  # JSON object
    sa.Column("annotator_kind", sa.String(5), nullable=False),  # HUMAN, LLM, CODE
    sa.Column("identifier", sa.String, nullable=False, server_default=""),
    sa.Column("source", sa.String(3), nullable=False, server_default="API"),  # API, APP
    sa.Column("user_id", sa.String, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint(
        "target_kind", "target_id", "name", "identifier", "document_position"
    ),
)
