"""Schema migrations: `upgrade()` brings a database to the newest schema (Alembic, in-process).

Start-up calls `upgrade()` every time. To keep start-up fast, Alembic itself is only imported
when the stored revision differs from `HEAD` (a test keeps `HEAD` equal to Alembic's head).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ember.errors import StoreUnavailable

HEAD = "0008"
MIGRATIONS = Path(__file__).with_name("migrations")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config() -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> bool:
    """Migrate to `revision`; return whether anything ran. A database that cannot be reached
    raises StoreUnavailable with the reason in one line."""
    try:
        if revision == "head" and current_revision(engine) == HEAD:
            return False
    except sa.exc.OperationalError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreUnavailable(f"cannot reach the database {shown}: {reason}") from exc
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Replicas starting together: one migrates, the others wait, then find it done.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn  # type: ignore[attr-defined]
        command.upgrade(config, revision)  # type: ignore[arg-type]
    return True


_MIGRATION_LOCK = 0x656D6265725F6462  # "ember_db"
