"""The console's CSV uploads: streamed past the body limit of JSON requests, as the API's are
(the form's action ends like theirs, `UPLOAD_SUFFIX`), and capped here while they arrive.

A file over the cap stops the upload where it crosses it (`UploadTooLarge`, raised from the
request's stream), and the page answers with what to do, never the API's 413 JSON.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_SUFFIX = "/members/import"


class UploadTooLarge(Exception):
    """The upload being read went past the console's cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class UploadCap:
    """Counts the bytes of the portals' uploads as they arrive; past the cap (the app's
    `state.console.max_upload`), reading on raises `UploadTooLarge`."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(self.prefixes)
            or not path.endswith(UPLOAD_SUFFIX)
        ):
            await self.app(scope, receive, send)
            return
        limit: int = scope["app"].state.console.max_upload
        size = 0

        async def capped() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                raise UploadTooLarge(limit)
            return message

        await self.app(scope, capped, send)
