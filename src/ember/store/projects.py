"""Projects: create, update, and list them a page at a time.

Projects are also created by ingest, for the first trace that names one (store/sql.py); these
are the explicit operations of the REST API. Pages are newest first (row id descending), so a
project created while a client pages through the list never shifts the pages it has not read.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ember.errors import Conflict
from ember.model import Page, Project
from ember.store import search
from ember.store.dialects import insert_ignore
from ember.store.rows import project
from ember.store.schema import projects


def create(conn: Connection, name: str, description: str | None, now_ns: int) -> int:
    """Insert a project in the caller's transaction; return its row id. Raises Conflict when
    the name is taken (also when another replica took it a moment ago)."""
    # RETURNING says whether the row was new (rowcount is not reliable on every driver).
    inserted = conn.execute(
        insert_ignore(conn.dialect.name, projects).returning(projects.c.id),
        {"name": name, "description": description, "created_at": now_ns},
    ).first()
    if inserted is None:
        raise Conflict(f"a project named {name!r} already exists")
    return int(inserted.id)


def update_description(conn: Connection, project_id: int, description: str | None) -> None:
    conn.execute(
        projects.update().where(projects.c.id == project_id).values(description=description)
    )


def page(
    readers: Engine, name_contains: str | None, cursor: str | None, limit: int
) -> Page[Project]:
    """Projects newest first, those whose name contains `name_contains` (ignoring case) when
    it is given; `next_cursor` is None on the last page."""
    query = sa.select(
        projects, projects.c.id.label("sort_value"), projects.c.id.label("row_id")
    )
    if name_contains:
        # Escaped, so `%` and `_` in the text are matched as themselves.
        query = query.where(projects.c.name.icontains(name_contains, autoescape=True))
    with readers.connect() as conn:
        rows, next_cursor = search.page(conn, query, _NEWEST_FIRST, cursor, limit)
    return Page(items=[project(row) for row in rows], next_cursor=next_cursor)


_NEWEST_FIRST = search.Order("project id", projects.c.id, projects.c.id)
