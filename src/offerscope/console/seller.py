"""The Seller Console: Product Management > Sales Configurations > Target Customers.

The product table and the Set Target Customer page of a product or a specification; their
Set forms are in `seller_targets`, their lists in `seller_lists`, the history in `history`,
and every change's preview (R14) in `preview`. Every page calls the same use cases
as the HTTP API; what a seller may choose and every error's words come from the domain. A
product and each of its specifications own a target, a specified-user list and associations:
the routes come in pairs over one helper, with `OwnerRef.specification_id` None for the
product's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response

from offerscope.console.auth import add_sign_in
from offerscope.console.web import (
    CONSOLE,
    ConsoleRoute,
    PageLinks,
    SellerSession,
    cursor_param,
    get_db,
    get_index,
    redirect,
    render,
    search_param,
    size_param,
)
from offerscope.domain.errors import NotFound
from offerscope.domain.windows import EntryStatus
from offerscope.services import associations, groups, products, specified_users, targets
from offerscope.services.actors import Actor
from offerscope.services.ownership import SPECIFICATION_NOT_FOUND
from offerscope.services.views import AssociationsView, SpecificationTargetView, TargetCustomersView
from offerscope.storage.unit_of_work import Database

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
add_sign_in(router, CONSOLE)

PRODUCTS_PAGE = 20
USERS_PAGE = 50
CANDIDATES_PAGE = 100

FormText = Annotated[str, Form()]

CHOOSE_AN_OPTION = "Choose one of the options in the list."


@dataclass(frozen=True)
class OwnerRef:
    """A product, or one of its specifications, as the page that sets its target customers."""

    product_id: str
    specification_id: str | None = None

    @property
    def product_path(self) -> str:
        return f"/console/products/{quote(self.product_id, safe='')}"

    @property
    def path(self) -> str:
        if self.specification_id is None:
            return self.product_path
        return f"{self.product_path}/specifications/{quote(self.specification_id, safe='')}"

    @property
    def noun(self) -> str:
        return "product" if self.specification_id is None else "specification"


@dataclass(frozen=True)
class FormState:
    """A submitted form's values and its errors by field (`general` for the whole form)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Forms:
    """The forms of a Set Target Customer page; a dialog's state is None while it is closed."""

    target: FormState = field(default_factory=FormState)
    user: FormState | None = None
    associate: FormState | None = None


# --- the product table ------------------------------------------------------------------------


@router.get("")
def console_home() -> Response:
    return redirect(CONSOLE.home)


@router.get("/products")
def product_table(request: Request, actor: SellerSession) -> Response:
    """The Target Customers tab: every product, each expanding into its specifications."""
    search = search_param(request, "q")
    size = size_param(request, "size", PRODUCTS_PAGE)
    page = targets.list_target_customers(
        get_db(request),
        actor,
        limit=size,
        cursor=cursor_param(request, "cursor"),
        search=search,
        sizes=get_index(request),
        count=True,
    )
    links = PageLinks(CONSOLE.home, "products", PRODUCTS_PAGE, keep={"q": search})
    return render(
        request, "products.html", {"page": page, "q": search, "paging": links.pager(page, size)}
    )


# --- the Set Target Customer page -------------------------------------------------------------


def specification_of(view: TargetCustomersView, ref: OwnerRef) -> SpecificationTargetView | None:
    if ref.specification_id is None:
        return None
    for spec in view.specifications:
        if spec.specification_id == ref.specification_id:
            return spec
    raise NotFound("specification_not_found", SPECIFICATION_NOT_FOUND)


def _candidates(
    db: Database,
    actor: Actor,
    view: TargetCustomersView,
    ref: OwnerRef,
    associated: AssociationsView,
    search: str,
) -> tuple[list[tuple[str, str]], bool]:
    """What the Associate dialog offers: the seller's other products (product's other specs).

    Only a choice to click; R7 and R8 are judged again by `associations.add_associations`.
    Returns (id, name) pairs and whether more products match than are shown.
    """
    taken = {item.id for item in associated.items}
    if ref.specification_id is not None:
        specs = [
            (s.specification_id, s.name)
            for s in view.specifications
            if s.specification_id != ref.specification_id and s.specification_id not in taken
        ]
        return specs, False
    page = products.list_products(db, actor, limit=CANDIDATES_PAGE, search=search)
    items = [
        (p.product_id, p.name)
        for p in page.items
        if p.product_id != ref.product_id and p.product_id not in taken
    ]
    return items, page.next_cursor is not None


# R16: the Status filter's choices, as the list shows each entry's status.
STATUSES = {
    EntryStatus.ACTIVE: "Active",
    EntryStatus.SCHEDULED: "Scheduled",
    EntryStatus.EXPIRED: "Expired",
}


def status_param(request: Request) -> EntryStatus | None:
    """The users list's status filter from the query string; None (all) unless one of them."""
    value = request.query_params.get("users_status", "")
    return EntryStatus(value) if value in {s.value for s in EntryStatus} else None


def owner_page(
    request: Request, actor: Actor, ref: OwnerRef, forms: Forms | None = None, status: int = 200
) -> Response:
    """The Set Target Customer page of a product or a specification, with its lists."""
    forms = forms or Forms()
    db = get_db(request)
    view = targets.get_target_customers(db, actor, ref.product_id, sizes=get_index(request))
    spec = specification_of(view, ref)
    users_q = search_param(request, "users_q")
    users_size = size_param(request, "users_size", USERS_PAGE)
    users_status = status_param(request)
    users = specified_users.list_specified_users(
        db,
        actor,
        ref.product_id,
        ref.specification_id,
        limit=users_size,
        cursor=cursor_param(request, "users_cursor"),
        search=users_q,
        status=users_status,
        count=True,
    )
    users_links = PageLinks(
        ref.path,
        "users",
        USERS_PAGE,
        cursor_name="users_cursor",
        size_name="users_size",
        anchor="users",
        keep={"users_q": users_q, "users_status": users_status or ""},
    )
    associated = associations.list_associations(db, actor, ref.product_id, ref.specification_id)
    candidates_q = search_param(request, "candidates_q")
    candidates, more_candidates = (
        _candidates(db, actor, view, ref, associated, candidates_q)
        if associated.active
        else ([], False)
    )
    options: list[str] = [t.value for t in view.allowed_targets]
    current: str = view.target.value
    if spec is not None:
        options, current = [s.value for s in spec.allowed_settings], spec.setting.value
    context: dict[str, Any] = {
        "ref": ref,
        "view": view,
        "spec": spec,
        "options": options,
        "current": current,
        "editable": spec is None or spec.editable,
        "forms": forms,
        "users": users,
        "seller_groups": groups.list_groups(db, actor).items if users.active else [],
        "users_q": users_q,
        "users_status": users_status or "",
        "statuses": STATUSES,
        "users_size": str(users_size) if users_size != USERS_PAGE else "",
        "users_paging": users_links.pager(users.page, users_size),
        "associated": associated,
        "candidates": candidates,
        "candidates_q": candidates_q,
        "more_candidates": more_candidates,
        "open_associate": forms.associate is not None or "candidates_q" in request.query_params,
    }
    return render(request, "owner.html", context, status)


@router.get("/products/{product_id}")
def product_page(request: Request, product_id: str, actor: SellerSession) -> Response:
    return owner_page(request, actor, OwnerRef(product_id))


@router.get("/products/{product_id}/specifications/{specification_id}")
def specification_page(
    request: Request, product_id: str, specification_id: str, actor: SellerSession
) -> Response:
    return owner_page(request, actor, OwnerRef(product_id, specification_id))
