"""A lean keep-alive JSON client over the standard library's `http.client`.

The races send tens of thousands of requests on two shared cores; httpx costs about three
times the client time per request, which would slow the servers under test for nothing. One
`Client` is one connection: use each from one thread at a time.
"""

from __future__ import annotations

import http.client
import json as jsonlib
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: Message
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class Client:
    """Requests to one server with one bearer token, over one persistent connection."""

    def __init__(self, base_url: str, token: str, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname is not None and parts.port is not None
        self._host, self._port, self._timeout = parts.hostname, parts.port, timeout
        self._headers = {"Authorization": f"Bearer {token}"}
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        url = path + ("?" + urlencode(params) if params else "")
        body = None if json is None else jsonlib.dumps(json).encode()
        sent = {**self._headers, **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
        reused = self._connection is not None
        try:
            return self._send(method, url, body, sent)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection before reading this request:
            # nothing was done, so sending it again on a new connection is safe.
            self.close()
            if not reused:
                raise
            return self._send(method, url, body, sent)

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Response:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        self._connection.request(method, url, body=body, headers=headers)
        answer = self._connection.getresponse()
        return Response(answer.status, answer.headers, answer.read())

    def get(self, path: str, **options: Any) -> Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> Response:
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> Response:
        return self.request("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Response:
        return self.request("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Response:
        return self.request("DELETE", path, **options)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
