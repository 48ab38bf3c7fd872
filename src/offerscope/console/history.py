"""The Seller Console's history of a product's target-customer changes (R13)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from offerscope.console.seller import OwnerRef
from offerscope.console.web import (
    ConsoleRoute,
    PageLinks,
    SellerSession,
    cursor_param,
    get_db,
    render,
    search_param,
    size_param,
)
from offerscope.domain.targets import LABELS
from offerscope.services import targets
from offerscope.services.history import names_in_history, product_history
from offerscope.services.views import HistoryEntryView

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

HISTORY_PAGE = 50

ACTIONS = {
    "product_created": "Product created",
    "product_target_set": "Product Target Customer changed",
    "specification_target_set": "Specification Target Customer changed",
    "specification_target_reset": "Specification returned to Same as product",
    "specified_user_added": "User added",
    "specified_user_removed": "User removed",
    "specified_user_window_changed": "User's window changed",
    "specified_users_imported": "Users imported",
    "group_attached": "Customer group attached",  # R17
    "group_detached": "Customer group detached",
    "association_added": "Association added",
    "association_removed": "Association removed",
}


# Entries whose before and after are target values (the others hold account names or IDs).
TARGET_ACTIONS = frozenset(
    {
        "product_created",
        "product_target_set",
        "specification_target_set",
        "specification_target_reset",
    }
)


def effect_of(entry: HistoryEntryView) -> list[tuple[str, int]]:
    """R14: the change's impact counts as history kept them, in the seller's words (empty when
    it recorded none); the page shows "No effect" for an impact of all zeros."""
    if entry.impact is None:
        return []
    return [
        (label, entry.impact.get(key, 0))
        for key, label in (
            ("gains", "gained"),
            ("losses", "lost"),
            ("customers_losing", "customers lost"),
        )
    ]


def _shown(entry: HistoryEntryView, value: str | None) -> str:
    """A history value in the seller's words: target values by their console label."""
    if value is None:
        return ""
    return LABELS.get(value, value) if entry.action in TARGET_ACTIONS else value


@router.get("/products/{product_id}/history")
def history(request: Request, product_id: str, actor: SellerSession) -> Response:
    """R13: the product's changes, newest first; narrowed to a specification or an account."""
    db = get_db(request)
    view = targets.get_target_customers(db, actor, product_id)
    spec_names = {s.specification_id: s.name for s in view.specifications}
    chosen = request.query_params.get("specification", "")
    specification = chosen if chosen in spec_names else None
    account = search_param(request, "account")
    size = size_param(request, "size", HISTORY_PAGE)
    page = product_history(
        db,
        actor,
        product_id,
        limit=size,
        cursor=cursor_param(request, "cursor"),
        specification_id=specification,
        account=account,
        count=True,
    )
    ref = OwnerRef(product_id)
    names = names_in_history(db, actor, page.items)
    links = PageLinks(
        f"{ref.path}/history",
        "changes",
        HISTORY_PAGE,
        keep={"specification": specification or "", "account": account},
    )
    context = {
        "ref": ref,
        "view": view,
        "page": page,
        "actions": ACTIONS,
        "shown": _shown,
        "effect_of": effect_of,
        "spec_names": spec_names,
        "actor_names": names.actors,
        "product_names": names.products,
        "specification": specification or "",
        "account": account,
        "size": str(size) if size != HISTORY_PAGE else "",
        "paging": links.pager(page, size),
    }
    return render(request, "history.html", context)
