"""A buyer's catalog: every product, each specification with this buyer's decision (R12)."""

from __future__ import annotations

from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.domain.targets import effective_target
from offerscope.index.index import CatalogRow
from offerscope.services.actors import Actor
from offerscope.services.decisions import Decider
from offerscope.services.paging import decode_cursor, encode_cursor, int_cursor
from offerscope.services.views import (
    BuyFirstView,
    CatalogProduct,
    CatalogSpecification,
    Page,
)


def catalog(
    index: Decider,
    actor: Actor,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    search: str = "",
) -> Page[CatalogProduct]:
    """Every product (or those `search` finds), each specification with this buyer's
    decision, from the index; with its position and total (the index knows them)."""
    limit = check_page_size(limit)
    after, before = _position(cursor)
    found = index.refresh().catalog(
        actor.account_pk, after=after, before=before, limit=limit, search=search
    )
    items = [_product(row) for row in found.rows]
    keys = [row.product.pk for row in found.rows]
    following = encode_cursor(keys[-1]) if found.more_after and keys else None
    previous = encode_cursor({"b": keys[0]}) if found.more_before and keys else None
    return Page(items, following, previous, found.start, found.total)


def _position(cursor: str | None) -> tuple[int | None, int | None]:
    """(after, before): a product key from a Next cursor, or from a Previous one."""
    raw = decode_cursor(cursor)
    if isinstance(raw, dict) and set(raw) == {"b"}:
        return None, int_cursor(encode_cursor(raw["b"]))
    return int_cursor(cursor), None


def _product(row: CatalogRow) -> CatalogProduct:
    return CatalogProduct(
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
                buy_first=[
                    BuyFirstView(b.product_id, b.product_name, b.specification_name)
                    for b in buy_first
                ],
            )
            for spec, decision, buy_first in row.specifications
        ],
    )
