"""The Seller Console's specified-user lists (R5, R6) and associations (R7, R8).

Their forms live on the Set Target Customer page (`seller.owner_page`), which re-renders
with a dialog open and its errors beside the fields when the use case refuses.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response

from offerscope.console.entry_form import entry_values, read_entry, refused_field
from offerscope.console.preview import dry_run, preview_of, preview_page
from offerscope.console.seller import (
    Forms,
    FormState,
    FormText,
    OwnerRef,
    owner_page,
    specification_of,
)
from offerscope.console.web import ConsoleRoute, SellerSession, flash, get_db, redirect
from offerscope.domain.errors import Conflict, Invalid
from offerscope.domain.windows import Window, describe
from offerscope.services import associations, specified_users, targets
from offerscope.services.actors import Actor
from offerscope.services.views import AddedUser, TargetCustomersView
from offerscope.web.errors import status_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

FormList = Annotated[list[str] | None, Form()]

CHOOSE_TO_ASSOCIATE = "Choose at least one to associate."

# --- specified users (R5, R6) -----------------------------------------------------------------


def _added_text(added: AddedUser) -> tuple[str, str]:
    user = added.user
    who = f"{user.account_name} ({user.account_id})"
    window = Window(user.valid_from, user.valid_until)
    if added.created:
        counts = f", counting {describe(window)}" if window.bounded else ""
        return f"Added {who} to the specified users{counts}.", "success"
    if window.bounded:
        return f"{who} is already on the list; it now counts {describe(window)}.", "info"
    return f"{who} is already on the list.", "info"


def _add_user(request: Request, actor: Actor, ref: OwnerRef, values: dict[str, str]) -> Response:
    errors: dict[str, str] = {}
    window = read_entry(values, errors)
    if not errors:
        try:
            added = specified_users.add_specified_user(
                get_db(request),
                actor,
                ref.product_id,
                ref.specification_id,
                values["account_id"],
                values["account_name"],
                window,
            )
        except (Invalid, Conflict) as error:
            refused_field(error, errors)
    if errors:
        return owner_page(request, actor, ref, Forms(user=FormState(values, errors)), 422)
    text, kind = _added_text(added)
    flash(request, text, kind, near="users")
    return redirect(f"{ref.path}#users")


@router.post("/products/{product_id}/users")
def add_product_user(
    request: Request,
    product_id: str,
    actor: SellerSession,
    account_name: FormText = "",
    account_id: FormText = "",
    valid_from: FormText = "",
    valid_until: FormText = "",
) -> Response:
    values = entry_values(account_name, account_id, valid_from, valid_until)
    return _add_user(request, actor, OwnerRef(product_id), values)


@router.post("/products/{product_id}/specifications/{specification_id}/users")
def add_specification_user(
    request: Request,
    product_id: str,
    specification_id: str,
    actor: SellerSession,
    account_name: FormText = "",
    account_id: FormText = "",
    valid_from: FormText = "",
    valid_until: FormText = "",
) -> Response:
    values = entry_values(account_name, account_id, valid_from, valid_until)
    return _add_user(request, actor, OwnerRef(product_id, specification_id), values)


def _confirm_remove_user(
    request: Request, actor: Actor, ref: OwnerRef, account_id: str
) -> Response:
    """R14: what removing the account would do, before it is removed."""
    db = get_db(request)
    removed, impact = dry_run(
        lambda: specified_users.remove_specified_user(
            db, actor, ref.product_id, ref.specification_id, account_id
        )
    )
    view = targets.get_target_customers(db, actor, ref.product_id)
    spec = specification_of(view, ref)
    owner_label = "Product" if spec is None else "Specification"
    return preview_page(
        request,
        ref,
        view,
        heading="Remove User",
        question=f"Remove {removed.account_name} from the specified users?",
        summary=[
            ("Account Name", removed.account_name, False),
            ("Account ID", removed.account_id, True),
            (owner_label, view.name if spec is None else spec.name, False),
        ],
        preview=preview_of(db, impact, _spec_names(view)),
        action=f"{ref.path}/users/{quote(removed.account_id, safe='')}/remove",
        fields=[],
        confirm="Remove",
        danger=True,
        cancel=f"{ref.path}#users",
    )


def _spec_names(view: TargetCustomersView) -> dict[str, str]:
    return {s.specification_id: s.name for s in view.specifications}


def _remove_user(request: Request, actor: Actor, ref: OwnerRef, account_id: str) -> Response:
    removed = specified_users.remove_specified_user(
        get_db(request), actor, ref.product_id, ref.specification_id, account_id
    )
    text = f"Removed {removed.account_name} ({removed.account_id}) from the specified users."
    flash(request, text, near="users")
    return redirect(f"{ref.path}#users")


@router.get("/products/{product_id}/users/{account_id}/remove")
def confirm_remove_product_user(
    request: Request, product_id: str, account_id: str, actor: SellerSession
) -> Response:
    return _confirm_remove_user(request, actor, OwnerRef(product_id), account_id)


@router.post("/products/{product_id}/users/{account_id}/remove")
def remove_product_user(
    request: Request, product_id: str, account_id: str, actor: SellerSession
) -> Response:
    return _remove_user(request, actor, OwnerRef(product_id), account_id)


@router.get("/products/{product_id}/specifications/{specification_id}/users/{account_id}/remove")
def confirm_remove_specification_user(
    request: Request, product_id: str, specification_id: str, account_id: str, actor: SellerSession
) -> Response:
    ref = OwnerRef(product_id, specification_id)
    return _confirm_remove_user(request, actor, ref, account_id)


@router.post("/products/{product_id}/specifications/{specification_id}/users/{account_id}/remove")
def remove_specification_user(
    request: Request, product_id: str, specification_id: str, account_id: str, actor: SellerSession
) -> Response:
    return _remove_user(request, actor, OwnerRef(product_id, specification_id), account_id)


# --- associations (R7, R8) --------------------------------------------------------------------


def _chosen_ids(ids: list[str] | None) -> list[str]:
    return list(dict.fromkeys(i for i in ids or [] if i))


def _associate_refused(
    request: Request, actor: Actor, ref: OwnerRef, message: str, status: int
) -> Response:
    forms = Forms(associate=FormState(errors={"ids": message}))
    return owner_page(request, actor, ref, forms, status)


def _preview_associate(request: Request, actor: Actor, ref: OwnerRef, ids: list[str]) -> Response:
    """R14: what associating the chosen products (specifications) would do; the dialog's Add."""
    chosen = _chosen_ids(ids)
    if not chosen:
        return _associate_refused(request, actor, ref, CHOOSE_TO_ASSOCIATE, 422)
    db = get_db(request)
    try:
        result, impact = dry_run(
            lambda: associations.add_associations(
                db, actor, ref.product_id, ref.specification_id, chosen
            )
        )
    except (Invalid, Conflict) as error:
        return _associate_refused(request, actor, ref, error.message, status_of(error))
    names = {item.id: item.name for item in result.items}
    view = targets.get_target_customers(db, actor, ref.product_id)
    spec = specification_of(view, ref)
    others = "products" if spec is None else "specifications"
    kind = "Product" if spec is None else "Specification"
    return preview_page(
        request,
        ref,
        view,
        question=f"Sell {view.name if spec is None else spec.name} to buyers of these {others}?",
        summary=[
            item
            for i in chosen
            for item in (
                (f"{kind} Name", names.get(i, i), False),
                (f"{kind} ID", i, True),
            )
        ],
        preview=preview_of(db, impact, _spec_names(view)),
        action=f"{ref.path}/associations",
        fields=[("ids", i) for i in chosen],
        cancel=f"{ref.path}#associations",
    )


def _associate(request: Request, actor: Actor, ref: OwnerRef, ids: list[str] | None) -> Response:
    chosen = _chosen_ids(ids)
    if not chosen:
        return _associate_refused(request, actor, ref, CHOOSE_TO_ASSOCIATE, 422)
    try:
        result = associations.add_associations(
            get_db(request), actor, ref.product_id, ref.specification_id, chosen
        )
    except (Invalid, Conflict) as error:
        return _associate_refused(request, actor, ref, error.message, status_of(error))
    names = {item.id: item.name for item in result.items}
    text = "Associated: " + ", ".join(names.get(i, i) for i in chosen)
    flash(request, text, near="associations")
    return redirect(f"{ref.path}#associations")


def _confirm_remove_association(
    request: Request, actor: Actor, ref: OwnerRef, other: str
) -> Response:
    """R14: what removing an association would do, before it is removed."""
    db = get_db(request)
    removed, impact = dry_run(
        lambda: associations.remove_association(
            db, actor, ref.product_id, ref.specification_id, other
        )
    )
    view = targets.get_target_customers(db, actor, ref.product_id)
    spec = specification_of(view, ref)
    return preview_page(
        request,
        ref,
        view,
        heading="Remove Association",
        question=f"Stop selling to buyers of {removed.name}?",
        summary=[
            ("Product Name" if spec is None else "Specification Name", removed.name, False),
            ("Product ID" if spec is None else "Specification ID", removed.id, True),
        ],
        preview=preview_of(db, impact, _spec_names(view)),
        action=f"{ref.path}/associations/{quote(removed.id, safe='')}/remove",
        fields=[],
        confirm="Remove",
        danger=True,
        cancel=f"{ref.path}#associations",
    )


def _remove_association(request: Request, actor: Actor, ref: OwnerRef, other: str) -> Response:
    removed = associations.remove_association(
        get_db(request), actor, ref.product_id, ref.specification_id, other
    )
    flash(
        request, f"Removed the association with {removed.name} ({removed.id}).", near="associations"
    )
    return redirect(f"{ref.path}#associations")


@router.get("/products/{product_id}/associations/preview")
def preview_associate_products(request: Request, product_id: str, actor: SellerSession) -> Response:
    ids = request.query_params.getlist("ids")
    return _preview_associate(request, actor, OwnerRef(product_id), ids)


@router.get("/products/{product_id}/specifications/{specification_id}/associations/preview")
def preview_associate_specifications(
    request: Request, product_id: str, specification_id: str, actor: SellerSession
) -> Response:
    ids = request.query_params.getlist("ids")
    return _preview_associate(request, actor, OwnerRef(product_id, specification_id), ids)


@router.get("/products/{product_id}/associations/{other_id}/remove")
def confirm_remove_product_association(
    request: Request, product_id: str, other_id: str, actor: SellerSession
) -> Response:
    return _confirm_remove_association(request, actor, OwnerRef(product_id), other_id)


@router.get(
    "/products/{product_id}/specifications/{specification_id}/associations/{other_id}/remove"
)
def confirm_remove_specification_association(
    request: Request, product_id: str, specification_id: str, other_id: str, actor: SellerSession
) -> Response:
    ref = OwnerRef(product_id, specification_id)
    return _confirm_remove_association(request, actor, ref, other_id)


@router.post("/products/{product_id}/associations")
def associate_products(
    request: Request, product_id: str, actor: SellerSession, ids: FormList = None
) -> Response:
    return _associate(request, actor, OwnerRef(product_id), ids)


@router.post("/products/{product_id}/specifications/{specification_id}/associations")
def associate_specifications(
    request: Request,
    product_id: str,
    specification_id: str,
    actor: SellerSession,
    ids: FormList = None,
) -> Response:
    return _associate(request, actor, OwnerRef(product_id, specification_id), ids)


@router.post("/products/{product_id}/associations/{other_id}/remove")
def remove_product_association(
    request: Request, product_id: str, other_id: str, actor: SellerSession
) -> Response:
    return _remove_association(request, actor, OwnerRef(product_id), other_id)


@router.post(
    "/products/{product_id}/specifications/{specification_id}/associations/{other_id}/remove"
)
def remove_specification_association(
    request: Request, product_id: str, specification_id: str, other_id: str, actor: SellerSession
) -> Response:
    ref = OwnerRef(product_id, specification_id)
    return _remove_association(request, actor, ref, other_id)
