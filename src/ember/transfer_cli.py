"""`ember export` and `ember import`: a project's spans to a file and back, with a progress bar.

The work is done by the light SDK (ember_sdk.transfer) through a running server's REST API and
OTLP endpoint, so these commands work against any Ember server, local or remote, and an import
derives everything again exactly as the first ingest did. ember_sdk is imported only when a
command runs, so `ember serve` does not pay for it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

FORMAT_CHOICES = ("jsonl", "parquet", "otlp-json")
DEFAULT_URL = "http://127.0.0.1:6006"

_url_option = click.option(
    "--url", default=DEFAULT_URL, show_default=True, help="The Ember server's base URL."
)
_api_key_option = click.option(
    "--api-key", default=None, help="API key for a server that asks for one [EMBER_API_KEY]."
)
_format_option = click.option(
    "--format", "format_", type=click.Choice(FORMAT_CHOICES), default=None,
    help="File format; by default from the file name (.jsonl, .parquet, .otlp.json).",
)


class _Bar:
    """A click progress bar fed by the SDK's (done, total) callback; total may be unknown."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None
        self._shown = 0

    def __call__(self, done: int, total: int | None) -> None:
        if self._bar is None:
            self._bar = click.progressbar(
                length=total if total is not None else None,
                # A generator has no length hint, so click draws an open-ended bar.
                iterable=None if total is not None else (_ for _ in ()),
                # stderr: stdout keeps only the result line, for scripts.
                label=self._label, show_pos=True, show_eta=total is not None, file=sys.stderr,
            )
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@click.command("export")
@click.option("--project", required=True, help="The project whose spans to export.")
@click.option(
    "--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (replaced when the export completes).",
)
@_format_option
@click.option(
    "--with-logs", is_flag=True,
    help="Also export the log records tied to the spans (GenAI message events); reads each "
    "trace once more.",
)
@_url_option
@_api_key_option
def export_command(
    project: str,
    output: Path,
    format_: str | None,
    with_logs: bool,
    url: str,
    api_key: str | None,
) -> None:
    """Export every span of a project to a JSONL, Parquet or OTLP-JSON file."""
    from ember_sdk.client import Client
    from ember_sdk.http import ClientError

    bar = _Bar(f"Exporting {project}")
    try:
        with Client(url, api_key=api_key) as client:
            result = client.export_spans(
                project, output, format_, progress=bar, include_logs=with_logs
            )
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        bar.close()
    click.echo(f"Exported {result.spans:,} spans of {project!r} to {result.path} "
               f"({result.format}).")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--project", default=None,
    help="The project to import into; by default each span's own project.",
)
@click.option(
    "--remint-ids", is_flag=True,
    help="Give every trace and span new random ids (consistently), to import data twice.",
)
@_format_option
@_url_option
@_api_key_option
def import_command(
    file: Path,
    project: str | None,
    remint_ids: bool,
    format_: str | None,
    url: str,
    api_key: str | None,
) -> None:
    """Import spans from a file made by `ember export` (or any OTLP-JSON file)."""
    from ember_sdk.client import Client
    from ember_sdk.http import ClientError

    bar = _Bar(f"Importing {file.name}")
    try:
        with Client(url, api_key=api_key) as client:
            result = client.import_spans(
                file, project=project, format=format_, remint_ids=remint_ids,
                progress=bar,
            )
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        bar.close()
    where = f"project {project!r}" if project else "their projects"
    logs = f" and {result.log_records_sent:,} log records" if result.log_records_sent else ""
    click.echo(f"Sent {result.spans_sent:,} spans{logs} from {result.path} ({result.format}) "
               f"into {where} in {result.requests} requests.")
    if result.spans_rejected or result.log_records_rejected:
        for message in result.messages:
            click.echo(f"  rejected: {message}", err=True)
        raise click.ClickException(
            f"the server rejected {result.spans_rejected:,} spans and "
            f"{result.log_records_rejected:,} log records"
        )
