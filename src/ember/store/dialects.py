"""The few SQL constructs that differ between SQLite and PostgreSQL, chosen in one place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

IN_LIST_CHUNK = 500


def chunks(items: Sequence[Any], size: int = IN_LIST_CHUNK) -> Iterable[Sequence[Any]]:
    """Cut a long IN list into pieces that stay under every dialect's bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignore(dialect_name: str, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the dialect."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect_name}")
