"""R17 on a Set Target Customer page: a customer group put on, or taken off, a specified-user
list, each shown with its effect (R14) before it happens."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from offerscope.console.preview import dry_run, preview_of, preview_page
from offerscope.console.seller import FormText, OwnerRef, specification_of
from offerscope.console.web import ConsoleRoute, SellerSession, flash, get_db, redirect
from offerscope.domain.errors import NotFound
from offerscope.services import groups, targets
from offerscope.services.actors import Actor

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

SPEC = "/products/{product_id}/specifications/{specification_id}"


def _preview(
    request: Request, actor: Actor, ref: OwnerRef, group_id: str, adding: bool
) -> Response:
    db = get_db(request)
    if not group_id:
        raise NotFound("group_not_found", "Choose one of your customer groups.")
    group = groups.get_group(db, actor, group_id)
    if adding:
        _answer, impact = dry_run(
            lambda: groups.attach_group(db, actor, ref.product_id, ref.specification_id, group_id)
        )
    else:
        _nothing, impact = dry_run(
            lambda: groups.detach_group(db, actor, ref.product_id, ref.specification_id, group_id)
        )
    view = targets.get_target_customers(db, actor, ref.product_id)
    spec = specification_of(view, ref)
    where = view.name if spec is None else f"{view.name} / {spec.name}"
    spec_names = {s.specification_id: s.name for s in view.specifications}
    quoted = quote(group_id, safe="")
    return preview_page(
        request,
        ref,
        view,
        heading="Add Group" if adding else "Remove Group",
        question=(
            f"Put the group {group.name} on the specified users of {where}?"
            if adding
            else f"Take the group {group.name} off the specified users of {where}?"
        ),
        summary=[
            ("Customer group", group.name, False),
            ("Members", f"{group.members:,}", False),
        ],
        preview=preview_of(db, impact, spec_names),
        action=f"{ref.path}/groups" if adding else f"{ref.path}/groups/{quoted}/remove",
        fields=[("group_id", group_id)] if adding else [],
        confirm="Add" if adding else "Remove",
        danger=not adding,
        cancel=f"{ref.path}#users",
    )


def _attach(request: Request, actor: Actor, ref: OwnerRef, group_id: str) -> Response:
    view, added = groups.attach_group(
        get_db(request), actor, ref.product_id, ref.specification_id, group_id
    )
    text = f"Put the group {view.name} on the list: its {view.members:,} members count here."
    flash(
        request, text if added else f"The group {view.name} is already on the list.", near="users"
    )
    return redirect(f"{ref.path}#users")


def _detach(request: Request, actor: Actor, ref: OwnerRef, group_id: str) -> Response:
    db = get_db(request)
    name = groups.get_group(db, actor, group_id).name
    groups.detach_group(db, actor, ref.product_id, ref.specification_id, group_id)
    flash(request, f"Took the group {name} off the list.", near="users")
    return redirect(f"{ref.path}#users")


@router.get("/products/{product_id}/groups/preview")
def preview_product_group(request: Request, product_id: str, actor: SellerSession) -> Response:
    group_id = request.query_params.get("group_id", "")
    return _preview(request, actor, OwnerRef(product_id), group_id, adding=True)


@router.get(SPEC + "/groups/preview")
def preview_specification_group(
    request: Request, product_id: str, specification_id: str, actor: SellerSession
) -> Response:
    group_id = request.query_params.get("group_id", "")
    ref = OwnerRef(product_id, specification_id)
    return _preview(request, actor, ref, group_id, adding=True)


@router.post("/products/{product_id}/groups")
def attach_product_group(
    request: Request, product_id: str, actor: SellerSession, group_id: FormText = ""
) -> Response:
    return _attach(request, actor, OwnerRef(product_id), group_id)


@router.post(SPEC + "/groups")
def attach_specification_group(
    request: Request,
    product_id: str,
    specification_id: str,
    actor: SellerSession,
    group_id: FormText = "",
) -> Response:
    return _attach(request, actor, OwnerRef(product_id, specification_id), group_id)


@router.get("/products/{product_id}/groups/{group_id}/remove")
def preview_detach_product_group(
    request: Request, product_id: str, group_id: str, actor: SellerSession
) -> Response:
    return _preview(request, actor, OwnerRef(product_id), group_id, adding=False)


@router.get(SPEC + "/groups/{group_id}/remove")
def preview_detach_specification_group(
    request: Request, product_id: str, specification_id: str, group_id: str, actor: SellerSession
) -> Response:
    ref = OwnerRef(product_id, specification_id)
    return _preview(request, actor, ref, group_id, adding=False)


@router.post("/products/{product_id}/groups/{group_id}/remove")
def detach_product_group(
    request: Request, product_id: str, group_id: str, actor: SellerSession
) -> Response:
    return _detach(request, actor, OwnerRef(product_id), group_id)


@router.post(SPEC + "/groups/{group_id}/remove")
def detach_specification_group(
    request: Request, product_id: str, specification_id: str, group_id: str, actor: SellerSession
) -> Response:
    return _detach(request, actor, OwnerRef(product_id, specification_id), group_id)
