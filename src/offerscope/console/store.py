"""The buyer store: the catalog with Buy and R12's reason, orders, and My Credentials."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response

from offerscope.console.auth import add_sign_in
from offerscope.console.web import (
    STORE,
    BuyerSession,
    StoreRoute,
    get_db,
    get_index,
    redirect,
    render,
    session_of,
)
from offerscope.domain.errors import NotFound, Refused
from offerscope.services import accounts, orders
from offerscope.services.catalog import catalog as catalog_page

router = APIRouter(prefix="/store", route_class=StoreRoute, include_in_schema=False)
add_sign_in(router, STORE)

CATALOG_PAGE = 20


@router.get("")
def catalog(request: Request, actor: BuyerSession) -> Response:
    """Every product's specifications as cards: Buy, or why this account may not buy."""
    cursor = request.query_params.get("cursor") or None
    page = catalog_page(get_index(request), actor, limit=CATALOG_PAGE, cursor=cursor)
    context = {
        "page": page,
        "next_href": f"{STORE.home}?{urlencode({'cursor': page.next_cursor})}"
        if page.next_cursor
        else None,
        "first_href": STORE.home if cursor else None,
    }
    return render(request, "store.html", context)


@router.post("/orders")
def buy(
    request: Request,
    actor: BuyerSession,
    specification_id: Annotated[str, Form()] = "",
    cursor: Annotated[str, Form()] = "",
) -> Response:
    """R11: the order is decided and placed in one transaction; a refusal says why."""
    session = session_of(request)
    try:
        order = orders.place_order(get_db(request), actor, specification_id)
    except (Refused, NotFound) as error:
        session.flash_message("error", error.message)
    else:
        session.flash_message("success", f"Thank you: order {order.order_id} is placed.")
    return redirect(STORE.home, cursor=cursor)  # back to the page the buyer was on


@router.get("/credentials")
def credentials(request: Request, actor: BuyerSession) -> Response:
    """My Credentials: the account name and ID a seller needs to add this buyer to a list."""
    assert actor.account_id is not None
    account = accounts.get_account(get_db(request), actor.account_id)
    return render(request, "credentials.html", {"account": account})
