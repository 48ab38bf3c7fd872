"""`/docs`: Swagger UI served by offerscope itself, so it works without the internet and under
the same security headers as every page.

Swagger UI's files come from the `fastapi-swagger` package (a declared dependency that ships
Swagger UI 5, which reads OpenAPI 3.1; never copied into this tree). The page and its start-up
script are ours, since the Content-Security-Policy allows no inline script.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from offerscope.web.security import Area, content_security_policy

DOCS = "/docs"
ASSETS = f"{DOCS}/assets"
HERE = Path(__file__).parent / "docs_static"


def _page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{escape(openapi_url)}"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{DOCS}/start.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> list[Area]:
    """Serve the docs page and its files; return the area whose headers the app must send.

    The app must be made with `docs_url=None` and `redoc_url=None` (FastAPI's own pages load
    their scripts from a public CDN).
    """
    page = _page(app.title, app.openapi_url or "/openapi.json")

    @app.get(DOCS, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{DOCS}/start.js", include_in_schema=False)
    async def start_script() -> FileResponse:
        return FileResponse(HERE / "docs.js", media_type="text/javascript")

    swagger_ui = Path(str(files("fastapi_swagger") / "resources"))
    app.mount(ASSETS, StaticFiles(directory=swagger_ui), name="docs-assets")
    return [Area(DOCS, content_security_policy(inline_styles=True))]
