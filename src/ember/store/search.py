"""Keyset pages over a filtered query, with the rows SQL could not decide checked in Python.

Every listing orders by one sort expression and then the row id, both in the same direction, and
a cursor is the position of the last row a page returned: the next page starts strictly after
it, so no row is skipped or repeated while rows are added. A filter's SQL part (`Plan.where`)
narrows the rows; its residual part (`Plan.residual`) is checked by `check` on each chunk of
candidates, and scanning stops once the page is full, or after MAX_SCAN candidates, in which
case the page may be short (even empty) and its cursor says where to go on: a listing never
hides that there is more.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from ember.errors import BadRequest

MAX_SCAN = 20_000
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by `expression` (never NULL), then `row_id`, descending or ascending."""

    name: str
    expression: ColumnElement[Any]
    row_id: ColumnElement[Any]
    descending: bool = True

    def after(self, position: tuple[Any, int]) -> ColumnElement[bool]:
        key = sa.tuple_(self.expression, self.row_id)
        return key < position if self.descending else key > position

    def clauses(self) -> tuple[Any, Any]:
        if self.descending:
            return self.expression.desc(), self.row_id.desc()
        return self.expression.asc(), self.row_id.asc()


def encode_cursor(order: Order, value: Any, row_id: int) -> str:
    text = orjson.dumps([order.name, "desc" if order.descending else "asc", value, row_id])
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode_cursor(order: Order, cursor: str) -> tuple[Any, int]:
    """The position a cursor holds; BadRequest when it is not one of ours or belongs to a
    listing sorted another way."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, direction, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest(f"cursor {cursor!r} is not a cursor this server gave") from None
    wanted = (order.name, "desc" if order.descending else "asc")
    if (name, direction) != wanted or not isinstance(row_id, int):
        raise BadRequest(
            f"cursor {cursor!r} belongs to a listing sorted by {name} {direction}, "
            f"not {wanted[0]} {wanted[1]}"
        )
    return value, row_id


def page(
    conn: Connection,
    query: sa.Select[Any],
    order: Order,
    cursor: str | None,
    limit: int,
    check: Callable[[Sequence[Row[Any]]], Sequence[bool]] | None = None,
) -> tuple[list[Row[Any]], str | None]:
    """Up to `limit` rows of `query` (which must select `order.expression` labelled
    `sort_value` and the row id labelled `row_id`) after `cursor`, and the next cursor."""
    ordered = query.order_by(*order.clauses())
    position = None if cursor is None else decode_cursor(order, cursor)
    if check is None:
        bounded = ordered if position is None else ordered.where(order.after(position))
        rows = list(conn.execute(bounded.limit(limit + 1)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more else None
        return rows, None if last is None else encode_cursor(order, last.sort_value, last.row_id)
    found: list[Row[Any]] = []
    scanned = 0
    budget = MAX_SCAN  # read at call time, so tests can lower it
    chunk = max(min(CHUNK, budget), limit)
    while True:
        bounded = ordered if position is None else ordered.where(order.after(position))
        rows = list(conn.execute(bounded.limit(chunk)).all())
        if not rows:
            return found, None
        for row, ok in zip(rows, check(rows), strict=True):
            scanned += 1
            position = (row.sort_value, row.row_id)
            if ok:
                found.append(row)
                if len(found) == limit:
                    return found, encode_cursor(order, row.sort_value, row.row_id)
        if len(rows) < chunk:
            return found, None
        if scanned >= budget:
            last = rows[-1]
            return found, encode_cursor(order, last.sort_value, last.row_id)
