"""R18 webhooks: operators register endpoints that receive every change, signed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import Field, StrictStr

from offerscope.api import schemas
from offerscope.api.deps import CheckedText, Cursor, Db, Limit, Operator
from offerscope.domain.limits import DEFAULT_PAGE
from offerscope.domain.webhooks import MAX_SECRET, MAX_URL
from offerscope.services import webhooks

router = APIRouter(prefix="/v1", tags=["webhooks"], dependencies=[CheckedText])

Kind = Annotated[StrictStr, Field(max_length=64, pattern=schemas.NO_NUL)]


class WebhookCreate(schemas.Request):
    url: Annotated[StrictStr, Field(max_length=MAX_URL + 100, pattern=schemas.NO_NUL)]
    events: Annotated[list[Kind], Field(max_length=50)]
    secret: Annotated[StrictStr, Field(max_length=MAX_SECRET + 100, pattern=schemas.NO_NUL)]


class Webhook(schemas.Response):
    webhook_id: str
    url: str
    events: list[str]
    created_at: datetime
    status: str = Field(description='"active", or "failing" after a day of failed deliveries.')
    failing_since: datetime | None
    delivered_through: int


class WebhookList(schemas.Response):
    items: list[Webhook]
    next_cursor: str | None


class Delivery(schemas.Response):
    revision: int
    kind: str
    status: str = Field(description='"delivered", or "retrying" (at next_try_at).')
    attempts: int
    last_error: str | None
    next_try_at: datetime | None
    first_try_at: datetime
    last_try_at: datetime


class DeliveryPage(schemas.Response):
    items: list[Delivery]
    next_cursor: str | None
    previous_cursor: str | None


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=Webhook)
def register_webhook(body: WebhookCreate, db: Db, _: Operator) -> Webhook:
    """Send every change committed from now on to `url`, signed with `secret` (never shown
    again): `Offerscope-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`."""
    return Webhook(**vars(webhooks.register(db, body.url, body.events, body.secret)))


@router.get("/webhooks", response_model=WebhookList)
def list_webhooks(
    db: Db, _: Operator, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> WebhookList:
    page = webhooks.list_webhooks(db, limit=limit, cursor=cursor)
    return WebhookList(items=[Webhook(**vars(v)) for v in page.items], next_cursor=page.next_cursor)


@router.get("/webhooks/{webhook_id}", response_model=Webhook)
def get_webhook(webhook_id: str, db: Db, _: Operator) -> Webhook:
    return Webhook(**vars(webhooks.get_webhook(db, webhook_id)))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: str, db: Db, _: Operator) -> Response:
    webhooks.delete_webhook(db, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(
    webhook_id: str, db: Db, _: Operator, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> DeliveryPage:
    """The endpoint's delivery log, newest first: status, attempts, last error, next try."""
    page = webhooks.deliveries(db, webhook_id, limit=limit, cursor=cursor)
    return DeliveryPage(
        items=[Delivery(**vars(d)) for d in page.items],
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
    )
