"""An import into a server that is busy: it answers 503 with Retry-After, the importer waits and
sends again, and every span arrives."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from ember_sdk.client import Client
from ember_sdk.transfer import ImportResult, import_spans
from tests.conftest import EmberProcess
from tests.transfer.compare import assert_copy_with_new_ids


def queue_full_rejections(server: EmberProcess) -> float:
    text = server.get("/metrics").text
    found = re.search(r'ember_otlp_requests_rejected_total\{reason="queue_full"\} (\S+)', text)
    return float(found.group(1)) if found else 0.0


def test_concurrent_imports_into_a_full_queue_all_arrive(
    exports: dict[str, Path], source_spans: list[dict[str, Any]], server_factory: Any
) -> None:
    # A queue of one span: a request is let in only while no other one waits, so concurrent
    # imports keep meeting 503s.
    target: EmberProcess = server_factory({"EMBER_INGEST_QUEUE_SPANS": "1"})
    results: dict[str, ImportResult] = {}
    errors: list[BaseException] = []

    def run(project: str) -> None:
        try:
            with Client(target.url) as client:
                results[project] = import_spans(
                    client.http, exports["jsonl"], project=project, remint_ids=True,
                    chunk_spans=50,
                )
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"busy-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    assert queue_full_rejections(target) > 0  # the server did push back
    for project, result in results.items():
        assert (result.spans_sent, result.spans_rejected) == (len(source_spans), 0)
        assert_copy_with_new_ids(source_spans, target.spans(project), project)
