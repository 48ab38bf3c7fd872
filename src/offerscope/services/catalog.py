"""A buyer's catalog: every product, each specification with this buyer's decision (R12)."""

from __future__ import annotations

from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.domain.targets import effective_target
from offerscope.services.actors import Actor
from offerscope.services.decisions import Decider
from offerscope.services.paging import encode_cursor, int_cursor
from offerscope.services.views import CatalogProduct, CatalogSpecification, Page


def catalog(
    index: Decider, actor: Actor, *, limit: int = DEFAULT_PAGE, cursor: str | None = None
) -> Page[CatalogProduct]:
    """Every product, each specification with this buyer's decision, from the index."""
    limit = check_page_size(limit)
    after = int_cursor(cursor)
    rows, last = index.refresh().catalog(actor.account_pk, after=after, limit=limit)
    items = [
        CatalogProduct(
            product_id=row.product.product_id,
            name=row.product.name,
            seller_name=row.seller_name,
            target=row.product.target,
            specifications=[
                CatalogSpecification(
                    specification_id=spec.specification_id,
                    name=spec.name,
                    effective_target=effective_target(row.product.target, spec.setting),
                    decision=decision,
                )
                for spec, decision in row.specifications
            ],
        )
        for row in rows
    ]
    return Page(items, encode_cursor(last) if last is not None else None)
