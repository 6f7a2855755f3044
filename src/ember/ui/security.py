"""Security headers on every response, the strict Content-Security-Policy first among them.

The policy lets a page run only scripts and styles served by Ember itself from files: no
inline script or style, no eval, no plugin, no framing, no <base> tricks. Images may come from
Ember or be `data:` URLs (images inside chat messages); remote images are never loaded (the
markdown renderer shows them as links). So text an LLM or a user wrote cannot run even if a
template or the sanitizer had a bug.

It is applied to every response, the REST API's included (harmless on JSON, and a JSON body
opened in a browser is a document too), except the paths in `exempt` (none today: the API
reference at /docs is Ember's own page, ui/api_docs.py).
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Pure ASGI middleware (cheap: it touches only the response start message)."""

    def __init__(self, app: ASGIApp, exempt: Collection[str] = ()) -> None:
        self.app = app
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
