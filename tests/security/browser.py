"""Signing in to the console the way a browser does: the form, its CSRF field, the cookie."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import httpx


def sign_in(base_url: str, token: str, portal: str = "console") -> httpx.Response:
    """Sign in at /console/login (or /store/login) as a browser would; cookies are carried by
    hand, since a Secure cookie is (rightly) never sent back over the plain HTTP of the test
    server."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        page = client.get(f"/{portal}/login")
        assert page.status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        jar = SimpleCookie(page.headers["set-cookie"])
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
        return client.post(
            f"/{portal}/login",
            data={"token": token, "csrf_token": csrf[1]},
            headers={"Cookie": cookie},
        )


class SavedCookie:
    """A session cookie copied out of the browser: every request sends exactly it."""

    def __init__(self, base_url: str, portal: str, token: str) -> None:
        signed_in = sign_in(base_url, token, portal=portal)
        assert signed_in.status_code == 303, signed_in.text
        name = f"offerscope_{portal}"
        self.header = {
            "Cookie": f"{name}={SimpleCookie(signed_in.headers['set-cookie'])[name].value}"
        }
        self.base_url = base_url

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base_url + path, headers=self.header, timeout=30)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return httpx.post(self.base_url + path, data=data, headers=self.header, timeout=30)


def csrf_of(page: httpx.Response) -> str:
    """The CSRF field of the page's forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found[1]
