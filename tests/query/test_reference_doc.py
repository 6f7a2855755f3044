from __future__ import annotations

from pathlib import Path

from ember.query.reference import markdown


def test_docs_query_md_is_current() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "query.md"
    assert page.read_text() == markdown(), (
        "docs/query.md is stale; run: python -c \"from ember.query.reference import markdown; "
        "print(markdown(), end='')\" > docs/query.md"
    )
