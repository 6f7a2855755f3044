"""Typed reads of one key of a JSON text column, for SQLite and PostgreSQL.

Each function returns a SQL expression that is the value when the key holds a JSON value of the
wanted kind and NULL otherwise (absent key, other kind), so comparisons get SQL's three-valued
logic for free. Keys are always bound parameters, never spliced into SQL text.

`document` is a JSON text expression (the `spans.attributes` column, or the `metadata`
attribute's own JSON text). On PostgreSQL a text that is not valid JSON reads as NULL (through
the `ember_jsonb` function migration 0005 creates), as SQLite's `json_valid` makes it there.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.sql.elements import ColumnElement

JsonKind = Literal["number", "text", "bool"]
_JSONB = JSONB()
_TEXT_ARRAY = ARRAY(sa.Text)

_SQLITE_TYPES: dict[JsonKind, tuple[str, ...]] = {
    "number": ("integer", "real"),
    "text": ("text",),
    "bool": ("true", "false"),
}
_PG_TYPES: dict[JsonKind, str] = {"number": "number", "text": "string", "bool": "boolean"}


def sqlite_path(keys: tuple[str, ...]) -> str | None:
    """`$."a"."b"`; None when a key holds a double quote, which a SQLite path cannot quote."""
    if any('"' in key for key in keys):
        return None
    return "$" + "".join(f'."{key}"' for key in keys)


class JsonReader:
    """Typed JSON reads in one dialect."""

    def __init__(self, dialect_name: str) -> None:
        if dialect_name not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"no JSON reads for {dialect_name}")
        self.postgres = dialect_name == "postgresql"

    def can_read(self, keys: tuple[str, ...]) -> bool:
        return self.postgres or sqlite_path(keys) is not None

    def present(self, document: ColumnElement[Any], keys: tuple[str, ...]) -> ColumnElement[bool]:
        """The key holds a non-null JSON value (absent and JSON null read alike)."""
        if self.postgres:
            return self._pg_value(document, keys).is_not(None) & (
                sa.func.jsonb_typeof(self._pg_value(document, keys)) != "null"
            )
        path = sqlite_path(keys)
        return sa.func.coalesce(sa.func.json_type(document, path), "null") != "null"

    def read(
        self, document: ColumnElement[Any], keys: tuple[str, ...], kind: JsonKind
    ) -> ColumnElement[Any]:
        """The key's value if it is of `kind` (bools read as 1/0 on SQLite), else NULL."""
        if self.postgres:
            value = self._pg_value(document, keys)
            as_text = self._pg_text(document, keys)
            typed: ColumnElement[Any]
            if kind == "number":
                typed = sa.cast(as_text, sa.Numeric)
            elif kind == "bool":
                typed = sa.cast(as_text, sa.Boolean)
            else:
                typed = as_text
            return sa.case((sa.func.jsonb_typeof(value) == _PG_TYPES[kind], typed), else_=None)
        path = sqlite_path(keys)
        json_type = sa.func.json_type(document, path)
        if kind == "bool":
            return sa.case((json_type == "true", 1), (json_type == "false", 0), else_=None)
        return sa.case(
            (json_type.in_(_SQLITE_TYPES[kind]), sa.func.json_extract(document, path)),
            else_=None,
        )

    def text(self, document: ColumnElement[Any], keys: tuple[str, ...]) -> ColumnElement[Any]:
        return self.read(document, keys, "text")

    def parse(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        """A JSON text value as a document for further reads; NULL when it is not valid JSON."""
        if self.postgres:
            return sa.func.ember_jsonb(text, type_=_JSONB)
        return sa.case((sa.func.json_valid(text) == 1, text), else_=None)

    def _pg_document(self, document: ColumnElement[Any]) -> ColumnElement[Any]:
        if isinstance(document.type, sa.Text | sa.String):
            return sa.cast(document, _JSONB)
        return document

    def _pg_value(self, document: ColumnElement[Any], keys: tuple[str, ...]) -> ColumnElement[Any]:
        return self._pg_document(document).op("#>", return_type=_JSONB)(
            sa.literal(list(keys), _TEXT_ARRAY)
        )

    def _pg_text(self, document: ColumnElement[Any], keys: tuple[str, ...]) -> ColumnElement[Any]:
        return self._pg_document(document).op("#>>", return_type=sa.Text)(
            sa.literal(list(keys), _TEXT_ARRAY)
        )
