"""Operator and checkout endpoints: accounts, sellers, tokens, refunds and decisions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from offerscope.api import schemas
from offerscope.api.decision_json import Decided, batch_response, decision_body
from offerscope.api.deps import CheckedText, Db, Index, Operator
from offerscope.api.metrics import count_decisions
from offerscope.services import accounts, decisions, orders, sellers, tokens
from offerscope.services.actors import Role

router = APIRouter(prefix="/v1", tags=["operator"], dependencies=[CheckedText])


@router.post("/accounts", status_code=status.HTTP_201_CREATED, response_model=schemas.Account)
def register_account(body: schemas.AccountCreate, db: Db, _: Operator) -> schemas.Account:
    """Register a customer account (409 if its ID exists)."""
    view = accounts.register_account(db, body.account_id, body.account_name, body.account_type)
    return schemas.Account.of(view)


@router.get("/accounts/{account_id}", response_model=schemas.Account)
def get_account(account_id: str, db: Db, _: Operator) -> schemas.Account:
    return schemas.Account.of(accounts.get_account(db, account_id))


@router.patch("/accounts/{account_id}", response_model=schemas.Account)
def update_account(
    account_id: str, body: schemas.AccountPatch, db: Db, _: Operator
) -> schemas.Account:
    """Rename an account or change its type; lists keep it by ID (SPEC.md §2, R6)."""
    view = accounts.update_account(
        db, account_id, account_name=body.account_name, account_type=body.account_type
    )
    return schemas.Account.of(view)


@router.post("/sellers", status_code=status.HTTP_201_CREATED, response_model=schemas.Seller)
def create_seller(body: schemas.SellerCreate, db: Db, _: Operator) -> schemas.Seller:
    view = sellers.create_seller(db, body.name)
    return schemas.Seller(seller_id=view.seller_id, name=view.name)


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=schemas.Token)
def create_token(body: schemas.TokenCreate, db: Db, _: Operator) -> schemas.Token:
    """Issue a token; it is shown once, and only its hash is kept."""
    token = tokens.create_token(
        db, Role(body.role), seller_id=body.seller_id, account_id=body.account_id
    )
    return schemas.Token(token=token)


@router.post("/orders/{order_id}/refund", response_model=schemas.Order)
def refund_order(order_id: str, db: Db, _: Operator) -> schemas.Order:
    """R10: a refunded order no longer counts as a purchase."""
    return schemas.Order(**vars(orders.refund_order(db, order_id)))


@router.post("/decisions", response_model=schemas.DecisionBody)
def decide(body: schemas.DecisionRequest, request: Request, index: Index, _: Operator) -> Response:
    """R12: may this account buy this specification, and if not, why?"""
    decision = decisions.check(index, body.account_id, body.specification_id)
    count_decisions(request, {decision.reason.value: 1})
    return Response(decision_body(decision), media_type="application/json")


@router.post("/decisions/batch", response_model=schemas.BatchResponse)
def decide_batch(
    body: schemas.BatchRequest, request: Request, index: Index, _: Operator
) -> Response:
    """R12 for up to 10,000 checks, answered in the order asked."""
    results = decisions.check_batch(
        index, [(check["account_id"], check["specification_id"]) for check in body.checks]
    )
    decided = Decided([r.decision for r in results])
    count_decisions(request, decided.reasons())
    return batch_response(results, decided)  # `schemas.BatchResponse`, without 10,000 models
