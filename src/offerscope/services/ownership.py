"""R9: a seller reaches only its own products and specifications; anything else is 404.

An `Owner` is a product, or one of its specifications, as the owner of a specified-user list
(R5) and of associations (R7, R8): the use cases of lists and associations are each written
once for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from offerscope.domain.errors import NotFound
from offerscope.domain.targets import Setting, Target
from offerscope.services.actors import Actor
from offerscope.storage import lists, products
from offerscope.storage.associations import PRODUCT_LINKS, SPECIFICATION_LINKS, Links
from offerscope.storage.tables import ProductRow, SpecificationRow
from offerscope.storage.unit_of_work import UnitOfWork

PRODUCT_NOT_FOUND = "No product with this ID exists in your catalogue."
SPECIFICATION_NOT_FOUND = "No specification with this ID exists under this product."


def own_product(
    uow: UnitOfWork, actor: Actor, product_id: str, *, lock: bool = False
) -> ProductRow:
    """R9: the seller's own product, else 404 exactly as for a missing one.

    With `lock`, the product row is locked for update on PostgreSQL: every change to a
    product's target customers and every order of it queue on this one row.
    """
    product = products.own_product(uow.session, actor.seller_pk, product_id, lock=lock)
    if product is None:
        raise NotFound("product_not_found", PRODUCT_NOT_FOUND, product_id=product_id)
    return product


def own_specification(
    uow: UnitOfWork, product: ProductRow, specification_id: str
) -> SpecificationRow:
    """R9: a specification of this (already owned) product, else 404."""
    spec = products.specification_of(uow.session, product.pk, specification_id)
    if spec is None:
        raise NotFound(
            "specification_not_found", SPECIFICATION_NOT_FOUND, specification_id=specification_id
        )
    return spec


@dataclass(frozen=True)
class Owner:
    """A product, or one of its specifications, with its list and its kind of associations."""

    product: ProductRow
    specification: SpecificationRow | None
    list_pk: int

    @property
    def kind(self) -> Literal["product", "specification"]:
        return "specification" if self.specification is not None else "product"

    @property
    def pk(self) -> int:
        return self.specification.pk if self.specification is not None else self.product.pk

    @property
    def public_id(self) -> str:
        if self.specification is not None:
            return self.specification.specification_id
        return self.product.product_id

    @property
    def spec_id(self) -> str | None:
        """The specification's ID, for history; None for the product's own."""
        return self.specification.specification_id if self.specification is not None else None

    @property
    def setting(self) -> Target | Setting:
        """The owner's own setting, which says whether its list and associations count."""
        if self.specification is not None:
            return Setting(self.specification.setting)
        return Target(self.product.target)

    @property
    def links(self) -> Links:
        return SPECIFICATION_LINKS if self.specification is not None else PRODUCT_LINKS

    @property
    def link_scope(self) -> int:
        """What makes a candidate a sibling: the seller (R7) or the product (R8)."""
        if self.specification is not None:
            return self.product.pk
        return self.product.seller_pk


def owner(
    uow: UnitOfWork, actor: Actor, product_id: str, specification_id: str | None, *, lock: bool
) -> Owner:
    """The seller's own product, or a specification of it, as an owner (R9: 404 otherwise)."""
    product = own_product(uow, actor, product_id, lock=lock)
    if specification_id is None:
        return Owner(product, None, lists.list_of(uow.session, product_pk=product.pk))
    spec = own_specification(uow, product, specification_id)
    return Owner(product, spec, lists.list_of(uow.session, specification_pk=spec.pk))
