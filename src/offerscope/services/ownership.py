"""R9: a seller reaches only its own products and specifications; anything else is 404.

An `Owner` is a product, or one of its specifications, as the owner of a specified-user list
(R5) and of associations (R7, R8): the use cases of lists and associations are each written
once for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from offerscope.domain.errors import NotFound
from offerscope.domain.lists import check_list_open, why_not_counted, why_window_not_counted
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import Window
from offerscope.services.actors import Actor
from offerscope.storage import groups, lists, products
from offerscope.storage.associations import PRODUCT_LINKS, SPECIFICATION_LINKS, Links
from offerscope.storage.tables import CustomerGroupRow, ProductRow, SpecificationRow
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

    def check_open(self) -> None:
        """R5: the list takes new users only while the owner's setting is `specified`."""
        check_list_open(self.setting)

    @property
    def type_rule(self) -> Target | None:
        """R6: a specification's list takes only accounts of its product's type, if typed."""
        return Target(self.product.target) if self.specification is not None else None

    def why_not(self, account_type: AccountType, window: Window, now: datetime) -> str | None:
        """Why an entry does not count now (R5, R6, R16), or None."""
        return why_not_counted(
            self.setting,
            Target(self.product.target),
            account_type,
            of_specification=self.specification is not None,
            window=window,
            now=now,
        )

    @property
    def links(self) -> Links:
        return SPECIFICATION_LINKS if self.specification is not None else PRODUCT_LINKS

    @property
    def link_scope(self) -> int:
        """What makes a candidate a sibling: the seller (R7) or the product (R8)."""
        if self.specification is not None:
            return self.product.pk
        return self.product.seller_pk


GROUP_NOT_FOUND = "No customer group with this ID exists among yours."


def own_group(
    uow: UnitOfWork, actor: Actor, group_id: str, *, lock: bool = False
) -> CustomerGroupRow:
    """R9, R17: the seller's own customer group, else 404 exactly as for a missing one."""
    found = groups.own_group(uow.session, actor.seller_pk, group_id, lock=lock)
    if found is None:
        raise NotFound("group_not_found", GROUP_NOT_FOUND, group_id=group_id)
    return found


@dataclass(frozen=True)
class GroupHolder:
    """R17: a customer group as the holder of its list of members. A group takes members
    whatever the lists holding it are set to, and R6 judges them where they count."""

    group: CustomerGroupRow
    list_pk: int

    def check_open(self) -> None:
        return None

    @property
    def type_rule(self) -> Target | None:
        return None

    def why_not(self, account_type: AccountType, window: Window, now: datetime) -> str | None:
        return why_window_not_counted(window, now)


# Whatever holds a list of accounts: the use cases of lists are written once for all.
ListHolder = Owner | GroupHolder


def group_holder(uow: UnitOfWork, actor: Actor, group_id: str, *, lock: bool) -> GroupHolder:
    group = own_group(uow, actor, group_id, lock=lock)
    return GroupHolder(group, groups.list_of_group(uow.session, group.pk))


def owner(
    uow: UnitOfWork, actor: Actor, product_id: str, specification_id: str | None, *, lock: bool
) -> Owner:
    """The seller's own product, or a specification of it, as an owner (R9: 404 otherwise)."""
    product = own_product(uow, actor, product_id, lock=lock)
    if specification_id is None:
        return Owner(product, None, lists.list_of(uow.session, product_pk=product.pk))
    spec = own_specification(uow, product, specification_id)
    return Owner(product, spec, lists.list_of(uow.session, specification_pk=spec.pk))
