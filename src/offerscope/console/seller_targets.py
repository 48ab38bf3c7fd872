"""The Seller Console's Set forms: a product's target (R4) and a specification's (R2).

OK opens a preview of the change's effect (R14, `console.preview`); its Confirm posts the
change for the version the page showed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from offerscope.console.preview import dry_run, preview_of, preview_page
from offerscope.console.seller import (
    CHOOSE_AN_OPTION,
    Forms,
    FormState,
    FormText,
    OwnerRef,
    owner_page,
    specification_of,
)
from offerscope.console.web import ConsoleRoute, SellerSession, flash, get_db, redirect
from offerscope.domain.errors import Conflict, Invalid, PreconditionFailed
from offerscope.domain.targets import LABELS, Setting, Target
from offerscope.services import targets
from offerscope.services.actors import Actor
from offerscope.storage.unit_of_work import Database
from offerscope.web.errors import status_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


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


def _chosen(ref: OwnerRef, value: str) -> Target | Setting | None:
    """The option chosen in a Set form, if it is one of the page's kind (product or spec)."""
    if ref.specification_id is None:
        return Target(value) if value in {t.value for t in Target} else None
    return Setting(value) if value in {s.value for s in Setting} else None


def _set_target(
    db: Database, actor: Actor, ref: OwnerRef, chosen: Target | Setting, seen: int, reset: bool
) -> None:
    """The Set use case of a product (R4) or a specification (R2), for the version seen."""
    if ref.specification_id is None:
        assert isinstance(chosen, Target)
        targets.set_product_target(
            db, actor, ref.product_id, chosen, reset_conflicting=reset, if_match=seen
        )
    else:
        assert isinstance(chosen, Setting)
        targets.set_specification_setting(
            db, actor, ref.product_id, ref.specification_id, chosen, if_match=seen
        )


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
