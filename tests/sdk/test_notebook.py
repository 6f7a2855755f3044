"""ember.launch_app(): a real server in a background thread, in a Jupyter kernel driven by
nbclient (the notebook's cells are docs/sdk.md's), and in this process with a given data folder
(the data outlives the server) and a busy port (the caller gets the error)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import nbformat
import pytest
from markdown_it import MarkdownIt
from nbclient import NotebookClient

import ember
from tests.conftest import free_port
from tests.helpers import make_span, post, project_request, span_id, trace_id

ROOT = Path(__file__).resolve().parents[2]

CHECK_CELL = """
import json, threading, asyncio, httpx
provider.force_flush()
spans = httpx.get(f"{app.url}/v1/projects/notebook/spans", timeout=10).json()["data"]
print(json.dumps({
    "spans": [(s["name"], s["span_kind"], s["attributes"].get("input.value")) for s in spans],
    "server_thread": any(t.name == "ember-notebook-server" for t in threading.enumerate()),
    "kernel_loop_running": asyncio.get_event_loop().is_running(),
    "url": app.url,
    "database": app.database,
}))
"""


def notebook_cells() -> list[str]:
    """The python blocks of docs/sdk.md's "Notebooks" section, in order."""
    text = (ROOT / "docs" / "sdk.md").read_text()
    section = text[text.index("## Notebooks"):]
    section = section[: section.index("\n## ", 1)]
    return [token.content for token in MarkdownIt().parse(section)
            if token.type == "fence" and token.info.strip() == "python"]


def stream_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_launch_app_in_a_jupyter_kernel(tmp_path: Path) -> None:
    launch, trace_cell, stop = notebook_cells()
    assert "ember.launch_app()" in launch and "app.stop()" in stop
    cells = [launch, trace_cell, CHECK_CELL, stop, "print(app.running)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    out = [stream_text(cell) for cell in notebook.cells]
    assert out[0].startswith("Ember is running at http://127.0.0.1:")
    assert out[1].startswith("Ember: tracing project 'notebook' to http://127.0.0.1:")
    checked = json.loads(out[2])
    assert checked["spans"] == [["hello", "CHAIN", "What is Ember?"]]
    assert checked["server_thread"] is True
    assert checked["kernel_loop_running"] is True, "the kernel's own loop runs in its main thread"
    assert f"{checked['url']}" in out[0]
    assert out[4] == "False\n"
    database = Path(checked["database"])
    assert not database.parent.exists(), "the temporary data folder is removed on stop"


def test_launch_app_keeps_data_in_a_given_folder(tmp_path: Path) -> None:
    trace, span = trace_id(), span_id()
    with ember.launch_app(working_dir=tmp_path / "data", quiet=True) as app:
        assert app.running
        assert app.database == str(tmp_path / "data" / "ember.db")
        response = post(app.url, project_request("kept", [make_span(trace, span, name="kept")]))
        assert response.status_code == 200
    assert not app.running
    assert (tmp_path / "data" / "ember.db").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{app.url}/healthz", timeout=2)

    again = ember.launch_app(working_dir=tmp_path / "data", quiet=True)
    try:
        body = httpx.get(f"{again.url}/v1/traces/{trace.hex()}", timeout=10).json()["data"]
        assert [s["name"] for s in body["spans"]] == ["kept"]
    finally:
        again.stop()
        again.stop()  # twice is fine


def test_launch_app_on_a_busy_port_raises(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            ember.launch_app(working_dir=tmp_path, port=port, quiet=True)
