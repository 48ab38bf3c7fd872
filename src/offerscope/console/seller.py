"""The Seller Console: Product Management > Sales Configurations > Target Customers.

The product table and the Set Target Customer page of a product or a specification; their
lists are in `seller_lists`, the history in `history`. Every page calls the same use cases
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
from offerscope.console.preview import Preview, dry_run, preview_of
from offerscope.console.web import (
    CONSOLE,
    ConsoleRoute,
    PageLinks,
    SellerSession,
    cursor_param,
    flash,
    get_db,
    get_index,
    redirect,
    render,
    search_param,
    size_param,
)
from offerscope.domain.errors import Conflict, Invalid, NotFound, PreconditionFailed
from offerscope.domain.targets import LABELS, Setting, Target
from offerscope.domain.windows import EntryStatus
from offerscope.services import associations, products, specified_users, targets
from offerscope.services.actors import Actor
from offerscope.services.ownership import SPECIFICATION_NOT_FOUND
from offerscope.services.views import AssociationsView, SpecificationTargetView, TargetCustomersView
from offerscope.storage.unit_of_work import Database
from offerscope.web.errors import status_of

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


def version_of(value: str) -> int:
    """The version the seller's page showed: the change applies only to what they saw.

    A form without a well-formed version cannot say what its seller saw: refused as stale.
    """
    if value.isascii() and value.isdigit() and value == str(int(value)) and int(value) > 0:
        return int(value)
    raise targets.version_mismatch()


def _target_error(
    request: Request, actor: Actor, ref: OwnerRef, chosen: str, message: str, status: int
) -> Response:
    forms = Forms(target=FormState({"target": chosen}, {"target": message}))
    return owner_page(request, actor, ref, forms, status)


SummaryItem = tuple[str, str, bool]  # (label, value, whether the value is an ID)


def preview_page(
    request: Request,
    ref: OwnerRef,
    view: TargetCustomersView,
    *,
    question: str,
    summary: list[SummaryItem],
    preview: Preview,
    action: str,
    fields: list[tuple[str, str]],
    heading: str = "Confirm the change",
    confirm: str = "Confirm",
    danger: bool = False,
    cancel: str = "",
    target: Target | Setting | None = None,
    affected: list[SpecificationTargetView] | None = None,
    status: int = 200,
) -> Response:
    """A change's effect (R14) with Confirm, which posts `fields` to `action` (the write,
    once per rendered form, R15), and Cancel, a link back that changes nothing."""
    context: dict[str, Any] = {
        "ref": ref,
        "view": view,
        "heading": heading,
        "question": question,
        "summary": summary,
        "preview": preview,
        "action": action,
        "fields": fields,
        "confirm": confirm,
        "danger": danger,
        "cancel": cancel or ref.path,
        "target": target,
        "affected": affected or [],
    }
    return render(request, "preview.html", context, status)


def _chosen(ref: OwnerRef, value: str) -> Target | Setting | None:
    """The option chosen in a Set form, if it is one of the page's kind (product or spec)."""
    if ref.specification_id is None:
        return Target(value) if value in {t.value for t in Target} else None
    return Setting(value) if value in {s.value for s in Setting} else None


def _set_target(
    db: Database, actor: Actor, ref: OwnerRef, chosen: Target | Setting, seen: int, reset: bool
) -> TargetCustomersView:
    """The Set use case of a product (R4) or a specification (R2), for the version seen."""
    if ref.specification_id is None:
        assert isinstance(chosen, Target)
        return targets.set_product_target(
            db, actor, ref.product_id, chosen, reset_conflicting=reset, if_match=seen
        )
    assert isinstance(chosen, Setting)
    targets.set_specification_setting(
        db, actor, ref.product_id, ref.specification_id, chosen, if_match=seen
    )
    return targets.get_target_customers(db, actor, ref.product_id)


def _preview_target(
    request: Request, actor: Actor, ref: OwnerRef, target: str, version: str, status: int = 200
) -> Response:
    """R14 (and R4): what setting the target would do, with Confirm to do it."""
    chosen = _chosen(ref, target)
    if chosen is None:
        return _target_error(request, actor, ref, target, CHOOSE_AN_OPTION, 422)
    db = get_db(request)
    conflicting: set[str] = set()
    try:
        seen = version_of(version)
        try:
            _, impact = dry_run(lambda: _set_target(db, actor, ref, chosen, seen, reset=False))
        except Conflict as error:
            if ref.specification_id is not None or error.code != "conflicting_specifications":
                raise
            # R4: the change needs some specifications back at Same as product; its effect
            # is the effect of the change with them.
            conflicting = set(error.details.get("conflicting_specifications", []))
            _, impact = dry_run(lambda: _set_target(db, actor, ref, chosen, seen, reset=True))
    except (Conflict, Invalid, PreconditionFailed) as error:
        return _target_error(request, actor, ref, target, error.message, status_of(error))
    view = targets.get_target_customers(db, actor, ref.product_id)
    spec = specification_of(view, ref)
    names = {s.specification_id: s.name for s in view.specifications}
    owner_name = view.name if spec is None else spec.name
    noun = ref.noun.capitalize()
    fields = [("target", chosen.value), ("version", str(seen))]
    if conflicting:
        fields.append(("reset", "1"))
    return preview_page(
        request,
        ref,
        view,
        question=f"Set {noun} Target Customer of {owner_name} to {LABELS[chosen]}?",
        summary=[
            (
                f"{noun} Target Customer now",
                LABELS[view.target if spec is None else spec.setting],
                False,
            ),
            ("After the change", LABELS[chosen], False),
        ],
        preview=preview_of(db, impact, names),
        action=f"{ref.path}/target",
        fields=fields,
        target=chosen,
        affected=[s for s in view.specifications if s.specification_id in conflicting],
        status=status,
    )


@router.get("/products/{product_id}/target/preview")
def preview_product_target(request: Request, product_id: str, actor: SellerSession) -> Response:
    """The Set form's OK: a page showing the change's effect (R14); nothing changes yet."""
    query = request.query_params
    return _preview_target(
        request, actor, OwnerRef(product_id), query.get("target", ""), query.get("version", "")
    )


@router.get("/products/{product_id}/specifications/{specification_id}/target/preview")
def preview_specification_target(
    request: Request, product_id: str, specification_id: str, actor: SellerSession
) -> Response:
    query = request.query_params
    ref = OwnerRef(product_id, specification_id)
    return _preview_target(request, actor, ref, query.get("target", ""), query.get("version", ""))


@router.post("/products/{product_id}/target")
def set_product_target(
    request: Request,
    product_id: str,
    actor: SellerSession,
    target: FormText = "",
    version: FormText = "",
    reset: FormText = "",
) -> Response:
    """R4: change the product's target (the preview's Confirm); a change that needs
    specifications reset and does not say so gets the preview with R4's confirmation."""
    ref = OwnerRef(product_id)
    if target not in {t.value for t in Target}:
        return _target_error(request, actor, ref, target, CHOOSE_AN_OPTION, 422)
    chosen = Target(target)
    try:
        view = targets.set_product_target(
            get_db(request),
            actor,
            product_id,
            chosen,
            reset_conflicting=reset == "1",
            if_match=version_of(version),
        )
    except Conflict as error:
        if error.code != "conflicting_specifications":
            return _target_error(request, actor, ref, target, error.message, 409)
        return _preview_target(request, actor, ref, target, version, status=409)
    except (Invalid, PreconditionFailed) as error:
        return _target_error(request, actor, ref, target, error.message, status_of(error))
    names = {s.specification_id: s.name for s in view.specifications}
    text = f"Product Target Customer set to {LABELS[chosen]}."
    if view.reset_specifications:
        returned = ", ".join(names[i] for i in view.reset_specifications)
        text += f" Returned to {LABELS['same_as_product']}: {returned}."
    flash(request, text)
    return redirect(ref.path)


@router.post("/products/{product_id}/specifications/{specification_id}/target")
def set_specification_target(
    request: Request,
    product_id: str,
    specification_id: str,
    actor: SellerSession,
    target: FormText = "",
    version: FormText = "",
) -> Response:
    """R2: set a specification within what its product's target allows."""
    ref = OwnerRef(product_id, specification_id)
    if target not in {s.value for s in Setting}:
        return _target_error(request, actor, ref, target, CHOOSE_AN_OPTION, 422)
    chosen = Setting(target)
    try:
        targets.set_specification_setting(
            get_db(request),
            actor,
            product_id,
            specification_id,
            chosen,
            if_match=version_of(version),
        )
    except (Conflict, Invalid, PreconditionFailed) as error:
        return _target_error(request, actor, ref, target, error.message, status_of(error))
    flash(request, f"Specification Target Customer set to {LABELS[chosen]}.")
    return redirect(ref.path)
