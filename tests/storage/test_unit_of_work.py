"""The two kinds of transaction on both stores: one snapshot per read, writers see commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from offerscope.domain.targets import Target
from offerscope.services import products, sellers, targets
from offerscope.storage.tables import ProductRow
from offerscope.storage.unit_of_work import Database


def _target(session: Session, product_id: str) -> str | None:
    return session.scalar(select(ProductRow.target).where(ProductRow.product_id == product_id))


def test_r12_a_read_transaction_sees_one_snapshot(db: Database) -> None:
    # A decision reads the offer, then the buyer's facts, in separate statements. Were each
    # statement to see the newest commit (PostgreSQL's READ COMMITTED), a decision could mix
    # a target from before a seller's change with a list from after another one, and allow a
    # buyer whom no state of the marketplace ever allowed. One snapshot per read rules it out.
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Snapshot").seller_id)
    product = products.create_product(db, seller, "Snapshot", ["Basic"])
    with db.reading() as uow:
        before = _target(uow.session, product.product_id)
        targets.set_product_target(db, seller, product.product_id, Target.ENTERPRISE)
        during = _target(uow.session, product.product_id)
    with db.reading() as uow:
        after = _target(uow.session, product.product_id)
    assert (before, during, after) == ("all", "all", "enterprise")


def test_a_writer_sees_what_committed_before_it_began(db: Database) -> None:
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Writer").seller_id)
    product = products.create_product(db, seller, "Writer", ["Basic"])
    targets.set_product_target(db, seller, product.product_id, Target.INDIVIDUAL, if_match=1)
    view = targets.set_product_target(db, seller, product.product_id, Target.ALL, if_match=2)
    assert (view.target, view.version) == (Target.ALL, 3)
