"""Seller endpoints: products, target customers, specified users, associations, history.

A product and each of its specifications own a list and associations: the handlers come in
pairs, each a line or two over the same use case (`specification_id` None for the product's).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from offerscope.api import schemas
from offerscope.api.deps import CheckedText, Cursor, Db, Index, Limit, Search, Seller
from offerscope.domain.limits import DEFAULT_PAGE
from offerscope.domain.windows import EntryStatus
from offerscope.services import associations, groups, products, specified_users, targets
from offerscope.services.history import product_history
from offerscope.services.views import (
    AddedUser,
    AssociationsView,
    SpecifiedUsersView,
    TargetCustomersView,
)
from offerscope.web.errors import HttpError

router = APIRouter(prefix="/v1/products", tags=["seller"], dependencies=[CheckedText])

IfMatch = Annotated[str | None, Header(max_length=100)]
SPEC = "/{product_id}/specifications/{specification_id}"


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Product)
def create_product(body: schemas.ProductCreate, db: Db, actor: Seller) -> schemas.Product:
    """R1: a new product sells to all users; its specifications are same_as_product."""
    view = products.create_product(db, actor, body.name, [s.name for s in body.specifications])
    return schemas.Product.of(view)


@router.get("", response_model=schemas.ProductPage)
def list_products(
    db: Db, actor: Seller, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None, q: Search = ""
) -> schemas.ProductPage:
    page = products.list_products(db, actor, limit=limit, cursor=cursor, search=q)
    return schemas.ProductPage(
        items=[schemas.Product.of(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.get("/{product_id}", response_model=schemas.Product)
def get_product(product_id: str, db: Db, actor: Seller) -> schemas.Product:
    return schemas.Product.of(products.get_product(db, actor, product_id))


@router.post(
    "/{product_id}/specifications",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Specification,
)
def add_specification(
    product_id: str, body: schemas.SpecificationCreate, db: Db, actor: Seller
) -> schemas.Specification:
    view = products.add_specification(db, actor, product_id, body.name)
    return schemas.Specification(specification_id=view.specification_id, name=view.name)


# --- target customers (R2, R4), versioned with ETag / If-Match ------------------------------


def _etag(version: int) -> str:
    return f'"v{version}"'


def _expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names; None for no precondition (or `*`)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if tag.startswith("v") and tag[1:].isdigit():
        return int(tag[1:])
    raise HttpError(
        412, "version_mismatch", "If-Match does not name a version of these target customers."
    )


def _target_response(view: TargetCustomersView, response: Response) -> schemas.TargetCustomers:
    response.headers["ETag"] = _etag(view.version)
    return schemas.TargetCustomers.of(view)


@router.get("/{product_id}/target-customers", response_model=schemas.TargetCustomers)
def get_target_customers(
    product_id: str, response: Response, db: Db, index: Index, actor: Seller
) -> schemas.TargetCustomers:
    view = targets.get_target_customers(db, actor, product_id, sizes=index)
    return _target_response(view, response)


@router.put("/{product_id}/target-customers", response_model=schemas.TargetCustomers)
def set_product_target(
    product_id: str,
    body: schemas.ProductTargetSet,
    response: Response,
    db: Db,
    actor: Seller,
    if_match: IfMatch = None,
) -> schemas.TargetCustomers:
    """R4: 409 conflicting_specifications unless reset_conflicting_specifications is true."""
    view = targets.set_product_target(
        db,
        actor,
        product_id,
        body.target,
        reset_conflicting=body.reset_conflicting_specifications,
        if_match=_expected_version(if_match),
    )
    return _target_response(view, response)


@router.put(SPEC + "/target-customers", response_model=schemas.TargetCustomers)
def set_specification_target(
    product_id: str,
    specification_id: str,
    body: schemas.SpecificationTargetSet,
    response: Response,
    db: Db,
    actor: Seller,
    if_match: IfMatch = None,
) -> schemas.TargetCustomers:
    """R2: only the settings the product's target allows; 409 non_editable under specified
    and associated products."""
    view = targets.set_specification_setting(
        db, actor, product_id, specification_id, body.target, if_match=_expected_version(if_match)
    )
    return _target_response(view, response)


# --- specified users (R5, R6) ---------------------------------------------------------------


def _user_page(view: SpecifiedUsersView) -> schemas.SpecifiedUserPage:
    return schemas.SpecifiedUserPage(
        items=[schemas.SpecifiedUser(**vars(u)) for u in view.page.items],
        next_cursor=view.page.next_cursor,
        active=view.active,
        groups=[schemas.AttachedGroup(**vars(g)) for g in view.groups],
    )


def _add_response(added: AddedUser, response: Response) -> schemas.SpecifiedUser:
    """R5: 201 when added, 200 when the account was already on the list."""
    response.status_code = status.HTTP_201_CREATED if added.created else status.HTTP_200_OK
    return schemas.SpecifiedUser(**vars(added.user))


# R5 adds an account ({account_id, account_name}); R17 puts a group on it ({group_id}).
ListAddition = schemas.SpecifiedUserAdd | schemas.GroupAttach
ListAdded = schemas.SpecifiedUser | schemas.AttachedGroup


def _add_to_list(
    db: Db,
    actor: Seller,
    product_id: str,
    specification_id: str | None,
    body: ListAddition,
    response: Response,
) -> ListAdded:
    if isinstance(body, schemas.GroupAttach):
        view, created = groups.attach_group(db, actor, product_id, specification_id, body.group_id)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return schemas.AttachedGroup(**vars(view))
    added = specified_users.add_specified_user(
        db, actor, product_id, specification_id, body.account_id, body.account_name, body.window()
    )
    return _add_response(added, response)


_ADDED = {
    "response_model": ListAdded,
    "status_code": status.HTTP_201_CREATED,
    "responses": {200: {"model": ListAdded, "description": "Already on the list"}},
}
_REMOVED = {"status_code": status.HTTP_204_NO_CONTENT, "response_class": Response}


@router.get("/{product_id}/specified-users", response_model=schemas.SpecifiedUserPage)
def list_product_users(
    product_id: str,
    db: Db,
    actor: Seller,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    q: Search = "",
    status: EntryStatus | None = None,
) -> schemas.SpecifiedUserPage:
    """R5; R16: `status` keeps only the entries active, scheduled or expired now."""
    return _user_page(
        specified_users.list_specified_users(
            db, actor, product_id, None, limit=limit, cursor=cursor, search=q, status=status
        )
    )


@router.post("/{product_id}/specified-users", **_ADDED)  # type: ignore[arg-type]
def add_product_user(
    product_id: str, body: ListAddition, response: Response, db: Db, actor: Seller
) -> ListAdded:
    """R5: only while the product's target is specified; name and ID of one account. R16: an
    optional window; adding an account already listed with another window replaces it (200).
    R17: `{"group_id"}` puts one of your customer groups on the list instead."""
    return _add_to_list(db, actor, product_id, None, body, response)


@router.delete("/{product_id}/specified-users/groups/{group_id}", **_REMOVED)  # type: ignore[arg-type]
def detach_product_group(product_id: str, group_id: str, db: Db, actor: Seller) -> Response:
    """R17: take a customer group off the product's list (404 if it is not on it)."""
    groups.detach_group(db, actor, product_id, None, group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(SPEC + "/specified-users/groups/{group_id}", **_REMOVED)  # type: ignore[arg-type]
def detach_specification_group(
    product_id: str, specification_id: str, group_id: str, db: Db, actor: Seller
) -> Response:
    groups.detach_group(db, actor, product_id, specification_id, group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{product_id}/specified-users/{account_id}", **_REMOVED)  # type: ignore[arg-type]
def remove_product_user(product_id: str, account_id: str, db: Db, actor: Seller) -> Response:
    specified_users.remove_specified_user(db, actor, product_id, None, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(SPEC + "/specified-users", response_model=schemas.SpecifiedUserPage)
def list_specification_users(
    product_id: str,
    specification_id: str,
    db: Db,
    actor: Seller,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    q: Search = "",
    status: EntryStatus | None = None,
) -> schemas.SpecifiedUserPage:
    """R5; R16: `status` keeps only the entries active, scheduled or expired now."""
    return _user_page(
        specified_users.list_specified_users(
            db,
            actor,
            product_id,
            specification_id,
            limit=limit,
            cursor=cursor,
            search=q,
            status=status,
        )
    )


@router.post(SPEC + "/specified-users", **_ADDED)  # type: ignore[arg-type]
def add_specification_user(
    product_id: str,
    specification_id: str,
    body: ListAddition,
    response: Response,
    db: Db,
    actor: Seller,
) -> ListAdded:
    """R5, R6: only while the specification's setting is specified, and of the right type.
    R17: `{"group_id"}` puts one of your customer groups on the list instead."""
    return _add_to_list(db, actor, product_id, specification_id, body, response)


@router.delete(SPEC + "/specified-users/{account_id}", **_REMOVED)  # type: ignore[arg-type]
def remove_specification_user(
    product_id: str, specification_id: str, account_id: str, db: Db, actor: Seller
) -> Response:
    specified_users.remove_specified_user(db, actor, product_id, specification_id, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- associations (R7, R8) ------------------------------------------------------------------


def _association_list(view: AssociationsView) -> schemas.AssociationList:
    return schemas.AssociationList(
        items=[schemas.Associated(id=a.id, name=a.name) for a in view.items],
        next_cursor=view.next_cursor,
        active=view.active,
    )


@router.get("/{product_id}/associated-products", response_model=schemas.AssociationList)
def list_associated_products(
    product_id: str, db: Db, actor: Seller, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> schemas.AssociationList:
    view = associations.list_associations(db, actor, product_id, limit=limit, cursor=cursor)
    return _association_list(view)


@router.post(
    "/{product_id}/associated-products",
    response_model=schemas.AssociationList,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": schemas.AssociationList, "description": "All already associated"}},
)
def add_associated_products(
    product_id: str,
    body: schemas.ProductAssociationAdd,
    response: Response,
    db: Db,
    actor: Seller,
) -> schemas.AssociationList:
    """R7: only other products of the same seller, while the target is associated."""
    view = associations.add_associations(db, actor, product_id, None, body.product_ids)
    response.status_code = status.HTTP_201_CREATED if view.created else status.HTTP_200_OK
    return _association_list(view)


@router.delete(
    "/{product_id}/associated-products/{other_product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def remove_associated_product(
    product_id: str, other_product_id: str, db: Db, actor: Seller
) -> Response:
    associations.remove_association(db, actor, product_id, None, other_product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(SPEC + "/associated-specifications", response_model=schemas.AssociationList)
def list_associated_specifications(
    product_id: str,
    specification_id: str,
    db: Db,
    actor: Seller,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> schemas.AssociationList:
    view = associations.list_associations(
        db, actor, product_id, specification_id, limit=limit, cursor=cursor
    )
    return _association_list(view)


@router.post(
    SPEC + "/associated-specifications",
    response_model=schemas.AssociationList,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": schemas.AssociationList, "description": "All already associated"}},
)
def add_associated_specifications(
    product_id: str,
    specification_id: str,
    body: schemas.SpecificationAssociationAdd,
    response: Response,
    db: Db,
    actor: Seller,
) -> schemas.AssociationList:
    """R8: only other specifications of the same product, while the setting is associated."""
    view = associations.add_associations(
        db, actor, product_id, specification_id, body.specification_ids
    )
    response.status_code = status.HTTP_201_CREATED if view.created else status.HTTP_200_OK
    return _association_list(view)


@router.delete(
    SPEC + "/associated-specifications/{other_specification_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def remove_associated_specification(
    product_id: str, specification_id: str, other_specification_id: str, db: Db, actor: Seller
) -> Response:
    associations.remove_association(db, actor, product_id, specification_id, other_specification_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- history (R13) --------------------------------------------------------------------------


@router.get("/{product_id}/history", response_model=schemas.HistoryPage)
def history(
    product_id: str, db: Db, actor: Seller, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> schemas.HistoryPage:
    """R13: every change to this product's targets, lists and associations, newest first."""
    page = product_history(db, actor, product_id, limit=limit, cursor=cursor)
    return schemas.HistoryPage(
        items=[schemas.HistoryEntry(**vars(e)) for e in page.items], next_cursor=page.next_cursor
    )
