"""The buyer store: the catalog with Buy, or why not and what would make it possible; the
buyer's orders; and My Credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from offerscope.console.auth import add_sign_in
from offerscope.console.web import (
    STORE,
    BuyerSession,
    PageLinks,
    StoreRoute,
    cursor_param,
    get_db,
    get_index,
    redirect,
    render,
    search_param,
    session_of,
    size_param,
)
from offerscope.domain.errors import NotFound, Refused
from offerscope.services import accounts, orders
from offerscope.services.catalog import catalog as catalog_page
from offerscope.services.views import AccountView, CatalogProduct, Page

router = APIRouter(prefix="/store", route_class=StoreRoute, include_in_schema=False)
add_sign_in(router, STORE)

CATALOG_PAGE = 20
ORDERS_PAGE = 20
ORDERS = f"{STORE.prefix}/orders"
CREDENTIALS = f"{STORE.prefix}/credentials"


@router.get("")
def catalog(request: Request, actor: BuyerSession) -> Response:
    """Every product's specifications as cards: Buy, or why this account may not buy and what
    would make it possible."""
    search = search_param(request, "q")
    size = size_param(request, "size", CATALOG_PAGE)
    page = catalog_page(
        get_index(request), actor, limit=size, cursor=cursor_param(request, "cursor"), search=search
    )
    links = PageLinks(STORE.home, "products", CATALOG_PAGE, keep={"q": search})
    context = {
        "page": page,
        "q": search,
        "size": str(size) if size != CATALOG_PAGE else "",
        "paging": links.pager(page, size),
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "account": _account(request, actor),
    }
    return render(request, "store.html", context)


def _refused(page: Page[CatalogProduct], specification_id: str) -> tuple[str, str] | None:
    """The product and specification names of a specification on `page`."""
    for product in page.items:
        for spec in product.specifications:
            if spec.specification_id == specification_id:
                return product.name, spec.name
    return None


def _find(request: Request, actor: BuyerSession, specification_id: str) -> tuple[str, str] | None:
    """The names of the product and specification with this ID, found in the catalog."""
    found = catalog_page(get_index(request), actor, limit=1, search=specification_id)
    return _refused(found, specification_id)


def _account(request: Request, actor: BuyerSession) -> AccountView:
    assert actor.account_id is not None
    return accounts.get_account(get_db(request), actor.account_id)


@router.post("/orders")
def buy(
    request: Request,
    actor: BuyerSession,
    specification_id: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """R11: the order is decided and placed in one transaction; a refusal names what was
    refused and leads to the card that says what would make it possible."""
    session = session_of(request)
    names = _find(request, actor, specification_id)
    what = f"{names[0]}: {names[1]}" if names else "This specification"
    try:
        order = orders.place_order(get_db(request), actor, specification_id)
    except Refused as error:
        session.flash_message("error", f"{what} could not be bought. {error.message}")
        return redirect(STORE.home, q=specification_id)  # its card says what would help
    except NotFound as error:
        session.flash_message("error", error.message)
    else:
        text = f"Thank you: order {order.order_id} is placed ({what}). See it under My Orders."
        session.flash_message("success", text)
    return redirect(_local(back) or STORE.home)


def _local(path: str) -> str:
    """A page of the store to go back to, never an address elsewhere."""
    inside = path == STORE.prefix or path.startswith((f"{STORE.prefix}/", f"{STORE.prefix}?"))
    return path if inside and "//" not in path and "\\" not in path else ""


@router.get("/orders")
def my_orders(request: Request, actor: BuyerSession) -> Response:
    """My Orders: every order of this account, newest first, with its status."""
    size = size_param(request, "size", ORDERS_PAGE)
    page = orders.order_lines(
        get_db(request), actor, limit=size, cursor=cursor_param(request, "cursor"), count=True
    )
    links = PageLinks(ORDERS, "orders", ORDERS_PAGE)
    return render(request, "orders.html", {"page": page, "paging": links.pager(page, size)})


@router.get("/credentials")
def credentials(request: Request, actor: BuyerSession) -> Response:
    """My Credentials: the account name and ID a seller needs to add this buyer to a list."""
    return render(request, "credentials.html", {"account": _account(request, actor)})
