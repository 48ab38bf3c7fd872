"""A bare FastAPI endpoint of the same shape as offerscope's `POST /v1/decisions`: the floor
that goal 1 holds offerscope's HTTP path to.

The same JSON request `{account_id, specification_id}` and response
`{allowed, reason, level, message}`, pydantic request and response models as FastAPI users
write them, answered from a dict look-up: no authentication, no database, no middleware.
Served as `offerscope serve` serves: uvicorn, one process, warning log level, no access log.

    python -m bench.bare_app --port 8001 [--mode async|sync]

`async` answers on the event loop (what FastAPI's docs advise for work that does not block);
`sync` is a plain `def`, run in the thread pool as offerscope's own endpoint is.
"""

from __future__ import annotations

import argparse
import os
from typing import Literal

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class DecisionRequest(BaseModel):
    account_id: str
    specification_id: str


class DecisionResponse(BaseModel):
    allowed: bool
    reason: str
    level: Literal["product", "specification"] | None
    message: str


REFUSED = DecisionResponse(
    allowed=False,
    reason="not_specified_user",
    level="product",
    message="This product is sold only to specified users.",
)
ANSWERS: dict[str, DecisionResponse] = {
    "spc_00000001": DecisionResponse(
        allowed=True,
        reason="allowed",
        level="product",
        message="This account may buy this specification.",
    ),
}


def create(mode: str = "async") -> FastAPI:
    app = FastAPI(title="bare decisions")

    if mode == "async":

        @app.post("/v1/decisions", response_model=DecisionResponse)
        async def decide(body: DecisionRequest) -> DecisionResponse:
            return ANSWERS.get(body.specification_id, REFUSED)

    else:

        @app.post("/v1/decisions", response_model=DecisionResponse)
        def decide_sync(body: DecisionRequest) -> DecisionResponse:
            return ANSWERS.get(body.specification_id, REFUSED)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="The bare FastAPI decision endpoint.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["async", "sync"], default="async")
    args = parser.parse_args()
    os.environ["BARE_APP_MODE"] = args.mode
    # The settings `offerscope serve` passes to uvicorn (src/offerscope/cli/main.py).
    uvicorn.run(
        "bench.bare_app:from_environment",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
    )


def from_environment() -> FastAPI:
    return create(os.environ.get("BARE_APP_MODE", "async"))


if __name__ == "__main__":
    main()
