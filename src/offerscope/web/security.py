"""Security headers for every page offerscope serves (console, store, API docs) and their files.

Each area names its Content-Security-Policy; every page also gets `X-Frame-Options: DENY`,
`nosniff`, a same-origin referrer and opener policy, and `no-store` (static files may be cached).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(*, inline_styles: bool = False) -> str:
    """Scripts, styles and images only from our own origin: no inline script can run, so a
    name that slipped through escaping still could not execute. `inline_styles` is for
    Swagger UI, which sets style attributes (styles cannot run code)."""
    styles = "style-src 'self' 'unsafe-inline'" if inline_styles else "style-src 'self'"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            styles,
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


COMMON_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class Area:
    """Paths under `prefix` get `policy`; `static` areas hold files, which caches may keep."""

    prefix: str
    policy: str
    static: bool = False


class SecurityHeadersMiddleware:
    """Adds the headers of the first area whose prefix a response's path starts with."""

    def __init__(self, app: ASGIApp, areas: Sequence[Area]) -> None:
        self.app = app
        self.areas = tuple(areas)

    def _area(self, path: str) -> Area | None:
        for area in self.areas:
            if path == area.prefix or path.startswith(area.prefix.rstrip("/") + "/"):
                return area
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        area = self._area(scope.get("path", "")) if scope["type"] == "http" else None
        if area is None:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = area.policy
                for name, value in COMMON_HEADERS.items():
                    headers[name] = value
                if not area.static:
                    # Pages show a seller's data: never kept by shared or browser caches.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
