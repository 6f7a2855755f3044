"""`GET /docs`: the REST API's browsable reference, drawn from the OpenAPI document.

FastAPI's own docs page loads Swagger UI from a CDN, which Ember never does (no CDN, strict
CSP, machines without internet); this page renders the same OpenAPI document (`/openapi.json`)
on the server instead: every route grouped by tag, with its parameters, body and answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

METHODS = ("get", "post", "put", "patch", "delete")


def _type(schema: dict[str, Any]) -> str:
    """A short type name for a parameter or body schema."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return kind


def operations(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The document's operations by tag, each with what the page shows."""
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            by_tag.setdefault((operation.get("tags") or ["other"])[0], []).append({
                "method": method.upper(),
                "path": path,
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": [
                    {
                        "name": p["name"],
                        "in": p["in"],
                        "required": p.get("required", False),
                        "type": _type(p.get("schema", {})),
                        "description": p.get("description")
                        or p.get("schema", {}).get("description", ""),
                    }
                    for p in operation.get("parameters", [])
                ],
                "body": {kind: _type(spec.get("schema", {})) for kind, spec in body.items()},
                "responses": {
                    code: answer.get("description", "")
                    for code, answer in operation.get("responses", {}).items()
                },
            })
    return dict(sorted(by_tag.items()))


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    from ember.ui.templating import render

    document = request.app.openapi()
    return render(request, "api_docs.html", {
        "title": document.get("info", {}).get("title", "Ember"),
        "version": document.get("info", {}).get("version", ""),
        "groups": operations(document),
    })
