"""The Seller Console's specified-user lists (R5, R6) and associations (R7, R8).

Their forms live on the Set Target Customer page (`seller.owner_page`), which re-renders
with a dialog open and its errors beside the fields when the use case refuses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from offerscope.console.seller import (
    Forms,
    FormState,
    FormText,
    OwnerRef,
    owner_page,
    specification_of,
)
from offerscope.console.web import ConsoleRoute, SellerSession, flash, get_db, redirect, render
from offerscope.domain.errors import Conflict, Invalid, NotFound
from offerscope.domain.names import normalize_account_id, normalize_account_name
from offerscope.services import associations, specified_users, targets
from offerscope.services.actors import Actor
from offerscope.web.errors import status_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

FormList = Annotated[list[str] | None, Form()]

CHOOSE_TO_ASSOCIATE = "Choose at least one to associate."

# --- specified users (R5, R6) -----------------------------------------------------------------

USER_FIELDS = ("account_name", "account_id")


def _add_user(
    request: Request, actor: Actor, ref: OwnerRef, account_name: str, account_id: str
) -> Response:
    values = {"account_name": account_name, "account_id": account_id}
    errors: dict[str, str] = {}
    # Both shapes are checked first, so that both fields' errors show at once.
    for name, check in (
        ("account_name", normalize_account_name),
        ("account_id", normalize_account_id),
    ):
        try:
            check(values[name])
        except Invalid as error:
            errors[name] = error.message
    if not errors:
        try:
            added = specified_users.add_specified_user(
                get_db(request),
                actor,
                ref.product_id,
                ref.specification_id,
                account_id,
                account_name,
            )
        except (Invalid, Conflict) as error:
            where = error.details.get("field")
            errors[where if where in USER_FIELDS else "general"] = error.message
    if errors:
        return owner_page(request, actor, ref, Forms(user=FormState(values, errors)), 422)
    user = added.user
    if added.created:
        text, kind = f"Added {user.account_name} ({user.account_id}) to the specified users.", ""
    else:
        text, kind = f"{user.account_name} ({user.account_id}) is already on the list.", "info"
    flash(request, text, kind or "success", near="users")
    return redirect(f"{ref.path}#users")


@router.post("/products/{product_id}/users")
def add_product_user(
    request: Request,
    product_id: str,
    actor: SellerSession,
    account_name: FormText = "",
    account_id: FormText = "",
) -> Response:
    return _add_user(request, actor, OwnerRef(product_id), account_name, account_id)


@router.post("/products/{product_id}/specifications/{specification_id}/users")
def add_specification_user(
    request: Request,
    product_id: str,
    specification_id: str,
    actor: SellerSession,
    account_name: FormText = "",
    account_id: FormText = "",
) -> Response:
    ref = OwnerRef(product_id, specification_id)
    return _add_user(request, actor, ref, account_name, account_id)


def _confirm_remove_user(
    request: Request, actor: Actor, ref: OwnerRef, account_id: str
) -> Response:
    db = get_db(request)
    view = targets.get_target_customers(db, actor, ref.product_id)
    spec = specification_of(view, ref)
    found = specified_users.list_specified_users(
        db, actor, ref.product_id, ref.specification_id, limit=1, search=account_id
    ).page.items
    if not found or found[0].account_id != account_id:
        raise NotFound("user_not_found", "This account is not on the specified-user list.")
    context = {"ref": ref, "view": view, "spec": spec, "user": found[0]}
    return render(request, "confirm_remove_user.html", context)


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


def _associate(request: Request, actor: Actor, ref: OwnerRef, ids: list[str] | None) -> Response:
    chosen = [i for i in ids or [] if i]
    if not chosen:
        forms = Forms(associate=FormState(errors={"ids": CHOOSE_TO_ASSOCIATE}))
        return owner_page(request, actor, ref, forms, 422)
    try:
        result = associations.add_associations(
            get_db(request), actor, ref.product_id, ref.specification_id, chosen
        )
    except (Invalid, Conflict) as error:
        forms = Forms(associate=FormState(errors={"ids": error.message}))
        return owner_page(request, actor, ref, forms, status_of(error))
    names = {item.id: item.name for item in result.items}
    text = "Associated: " + ", ".join(names.get(i, i) for i in dict.fromkeys(chosen))
    flash(request, text, near="associations")
    return redirect(f"{ref.path}#associations")


def _remove_association(request: Request, actor: Actor, ref: OwnerRef, other: str) -> Response:
    removed = associations.remove_association(
        get_db(request), actor, ref.product_id, ref.specification_id, other
    )
    flash(
        request, f"Removed the association with {removed.name} ({removed.id}).", near="associations"
    )
    return redirect(f"{ref.path}#associations")


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
