"""The `ember` command: serve, db upgrade, settings."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from ember import __version__
from ember.demo.command import demo as demo_command
from ember.errors import EmberError
from ember.settings import load_settings, settings_table
from ember.transfer_cli import export_command, import_command


def _settings(**overrides: Any) -> Any:
    try:
        return load_settings(overrides)
    except EmberError as exc:
        raise click.UsageError(exc.message) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ember")
def main() -> None:
    """Ember: an observability server for LLM applications."""


@main.command()
@click.option("--host", help="Interface to bind [EMBER_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="HTTP port [EMBER_PORT, default 6006].")
@click.option("--grpc-port", type=int, help="OTLP/gRPC port [EMBER_GRPC_PORT, default 4317].")
@click.option("--working-dir", help="Data folder [EMBER_WORKING_DIR, default ~/.ember].")
@click.option("--database-url", help="Database URL [EMBER_DATABASE_URL].")
@click.option("--prices-file", help="Extra LLM prices, TOML or JSON [EMBER_PRICES_FILE].")
def serve(
    host: str | None,
    port: int | None,
    grpc_port: int | None,
    working_dir: str | None,
    database_url: str | None,
    prices_file: str | None,
) -> None:
    """Run the server: UI, REST API and OTLP over HTTP and gRPC."""
    from ember.server import Endpoints, run

    settings = _settings(
        host=host, port=port, grpc_port=grpc_port, working_dir=working_dir,
        database_url=database_url, prices_file=prices_file,
    )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)

    def on_ready(endpoints: Endpoints) -> None:
        click.echo(f"Ember {__version__} is running.")
        click.echo(f"  UI and REST API:  {endpoints.http}")
        click.echo(f"  OTLP/HTTP:        {endpoints.http}/v1/traces and /v1/logs")
        click.echo(f"  OTLP/gRPC:        {endpoints.grpc}")
        click.echo(f"  Data:             {endpoints.database}")
        click.echo("Press Ctrl+C to stop.", nl=True)
        sys.stdout.flush()

    try:
        run(settings, on_ready=on_ready)
    except (OSError, EmberError) as exc:
        message = exc.message if isinstance(exc, EmberError) else str(exc)
        click.echo(f"ember: {message}", err=True)
        sys.exit(1)


main.add_command(demo_command, name="demo")
main.add_command(export_command, name="export")
main.add_command(import_command, name="import")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@click.option("--working-dir", help="Data folder [EMBER_WORKING_DIR].")
@click.option("--database-url", help="Database URL [EMBER_DATABASE_URL].")
def upgrade(working_dir: str | None, database_url: str | None) -> None:
    """Migrate the database to this version's schema (serve also does this at start)."""
    from ember.store import migrate
    from ember.store.engine import create_engines

    settings = _settings(working_dir=working_dir, database_url=database_url)
    settings.working_path.mkdir(parents=True, exist_ok=True)
    try:
        writer, readers = create_engines(
            settings.resolved_database_url, settings.sqlite_synchronous
        )
    except EmberError as exc:
        raise click.ClickException(exc.message) from exc
    try:
        ran = migrate.upgrade(writer)
        revision = migrate.current_revision(writer)
    except EmberError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        writer.dispose()
        readers.dispose()
    click.echo(f"database {'upgraded' if ran else 'already'} at revision {revision}")


@main.command("settings")
@click.option("--markdown", is_flag=True, help="Print the table docs/settings.md holds.")
def show_settings(markdown: bool) -> None:
    """List every setting with its environment variable and default."""
    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    for env, default, help_text in settings_table():
        click.echo(f"{env:<34} {default!s:<18} {help_text}")


def settings_markdown() -> str:
    lines = [
        "# Settings",
        "",
        "Every server setting, from the one table in `src/ember/settings.py` (this page is",
        "`ember settings --markdown`). A command-line flag beats the environment variable, which",
        "beats the default.",
        "",
        "| environment variable | default | meaning |",
        "|---|---|---|",
    ]
    for env, default, help_text in settings_table():
        lines.append(f"| `{env}` | `{default}` | {help_text} |")
    return "\n".join(lines) + "\n"


@db.command()
@click.option("--working-dir", help="Data folder [EMBER_WORKING_DIR].")
@click.option("--database-url", help="Database URL [EMBER_DATABASE_URL].")
@click.option("--days", type=click.IntRange(min=1), help="Default: keep this many days.")
@click.option("--max-traces", type=click.IntRange(min=1), help="Default: newest N per project.")
def prune(
    working_dir: str | None, database_url: str | None, days: int | None, max_traces: int | None
) -> None:
    """Apply retention once: each project's own policy, else the default (settings, or the
    --days / --max-traces given here)."""
    import time

    from ember.model import RetentionPolicy
    from ember.server import EmberServer

    settings = _settings(working_dir=working_dir, database_url=database_url)
    default = settings.default_retention
    if days is not None or max_traces is not None:
        default = RetentionPolicy(days=days, max_traces=max_traces)
    try:
        store, _ = EmberServer.open_store(settings)
    except EmberError as exc:
        raise click.ClickException(exc.message) from exc
    try:
        deleted = store.prune(default, time.time_ns())
    finally:
        store.close()
    click.echo(f"deleted {deleted} traces")
