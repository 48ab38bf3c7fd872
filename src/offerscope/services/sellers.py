"""Sellers: created by the operator; the command line acts on their behalf."""

from __future__ import annotations

from offerscope.domain.errors import NotFound
from offerscope.domain.names import check_display_name
from offerscope.services.actors import Actor, Role
from offerscope.services.ids import new_id, utcnow
from offerscope.services.views import SellerView
from offerscope.storage import changes, products, sellers
from offerscope.storage.unit_of_work import Database

PRODUCT_NOT_FOUND = "No product with this ID exists in your catalogue."


def create_seller(db: Database, name: str) -> SellerView:
    name = check_display_name(name)
    with db.writing() as uow:
        row = sellers.add_seller(uow.session, new_id("slr"), name, utcnow())
        uow.record_change(changes.SellerSet(row.pk, row.name))
        uow.commit()
        return SellerView(row.seller_id, row.name)


def seller_actor(db: Database, seller_id: str) -> Actor:
    """The actor of a seller, for use cases run on its behalf by the command line."""
    with db.reading() as uow:
        pk = sellers.seller_pk(uow.session, seller_id)
        if pk is None:
            raise NotFound("seller_not_found", "No seller has this ID.", seller_id=seller_id)
        return Actor(Role.SELLER, seller_pk=pk, seller_id=seller_id)


def seller_of_product(db: Database, product_id: str) -> Actor:
    """The seller owning a product, for the command line, which speaks for every seller."""
    with db.reading() as uow:
        found = products.seller_of_product(uow.session, product_id.strip())
    if found is None:
        raise NotFound("product_not_found", PRODUCT_NOT_FOUND, product_id=product_id)
    return Actor(Role.SELLER, seller_pk=found[0], seller_id=found[1])


def seller_name(db: Database, seller_pk: int) -> str:
    with db.reading() as uow:
        return sellers.seller_name(uow.session, seller_pk) or ""
