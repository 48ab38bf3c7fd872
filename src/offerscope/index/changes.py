"""What a write tells the decision index: the change vocabulary, as small JSON objects.

Write use cases record these with `uow.record_change(...)`; they travel through the change log
(`storage.changelog`) to every process's index. Values are absolute (a target, a type) or sets
(list and link edits), so replaying one is harmless, except `purchase`, which counts and is
applied exactly once per revision. Bulk edits name what to reload rather than list a million
rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from offerscope.storage.changelog import Change

Owner = Literal["product", "specification"]


def account(pk: int, account_id: str, account_type: str) -> Change:
    """An account registered, or its type changed."""
    return {"op": "account", "pk": pk, "id": account_id, "type": account_type}


def accounts_reload(first_pk: int, last_pk: int) -> Change:
    """Accounts with a key in `first_pk .. last_pk` were registered or changed in bulk."""
    return {"op": "accounts_reload", "first": first_pk, "last": last_pk}


def seller(pk: int, name: str) -> Change:
    return {"op": "seller", "pk": pk, "name": name}


def product(pk: int, product_id: str, seller_pk: int, name: str, target: str) -> Change:
    """A product created, or its target changed."""
    return {
        "op": "product",
        "pk": pk,
        "id": product_id,
        "seller": seller_pk,
        "name": name,
        "target": target,
    }


def specification(
    pk: int, specification_id: str, product_pk: int, name: str, setting: str
) -> Change:
    """A specification created, or its setting changed."""
    return {
        "op": "specification",
        "pk": pk,
        "id": specification_id,
        "product": product_pk,
        "name": name,
        "setting": setting,
    }


def listed(owner: Owner, owner_pk: int, account_pks: Iterable[int], *, present: bool) -> Change:
    """Accounts added to (`present`) or removed from a specified-user list."""
    return {
        "op": "list",
        "owner": owner,
        "pk": owner_pk,
        "accounts": list(account_pks),
        "present": present,
    }


def list_reload(owner: Owner, owner_pk: int) -> Change:
    """A list changed in bulk (an import): read it again."""
    return {"op": "list_reload", "owner": owner, "pk": owner_pk}


def linked(owner: Owner, owner_pk: int, other_pk: int, *, present: bool) -> Change:
    """An association added (`present`) or removed (R7, R8)."""
    return {"op": "link", "owner": owner, "pk": owner_pk, "other": other_pk, "present": present}


def purchase(account_pk: int, specification_pk: int, product_pk: int, delta: int) -> Change:
    """R10: a paid order (+1) or its refund (-1)."""
    return {
        "op": "purchase",
        "account": account_pk,
        "specification": specification_pk,
        "product": product_pk,
        "delta": delta,
    }


def rebuild() -> Change:
    """Anything else (data loaded behind the use cases' back): build the index anew."""
    return {"op": "rebuild"}
