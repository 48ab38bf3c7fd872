"""Buyer endpoints: the catalog and orders."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from offerscope.api import schemas
from offerscope.api.decision_json import Decided
from offerscope.api.deps import Buyer, CheckedText, Cursor, Db, Index, Limit
from offerscope.api.metrics import count_decisions
from offerscope.domain.limits import DEFAULT_PAGE
from offerscope.services import orders
from offerscope.services.catalog import catalog as catalog_page

router = APIRouter(prefix="/v1", tags=["buyer"], dependencies=[CheckedText])


@router.get("/catalog", response_model=schemas.CatalogPage)
def catalog(
    request: Request, index: Index, actor: Buyer, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> schemas.CatalogPage:
    """Every product with each specification's decision for the signed-in buyer."""
    page = catalog_page(index, actor, limit=limit, cursor=cursor)
    decided = Decided([s.decision for p in page.items for s in p.specifications])
    count_decisions(request, decided.reasons())
    return schemas.CatalogPage(
        items=[
            schemas.CatalogProduct(
                product_id=p.product_id,
                name=p.name,
                seller_name=p.seller_name,
                target=p.target,
                specifications=[
                    schemas.CatalogSpecification(
                        specification_id=s.specification_id,
                        name=s.name,
                        effective_target=s.effective_target,
                        purchasable=s.decision.allowed,
                        decision=schemas.DecisionBody.of(s.decision),
                    )
                    for s in p.specifications
                ],
            )
            for p in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=schemas.Order)
def place_order(body: schemas.OrderCreate, db: Db, actor: Buyer) -> schemas.Order:
    """R11: ordered only if R3 admits the buyer at that moment; 403 with the decision if not."""
    return schemas.Order(**vars(orders.place_order(db, actor, body.specification_id)))


@router.get("/orders", response_model=schemas.OrderPage)
def list_orders(
    db: Db, actor: Buyer, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> schemas.OrderPage:
    page = orders.list_orders(db, actor, limit=limit, cursor=cursor)
    return schemas.OrderPage(
        items=[schemas.Order(**vars(o)) for o in page.items], next_cursor=page.next_cursor
    )
