"""Who is asking: the role of an authenticated token and whom it speaks for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    SELLER = "seller"
    BUYER = "buyer"


@dataclass(frozen=True)
class Actor:
    """An authenticated token's role and whom it speaks for."""

    role: Role
    seller_pk: int | None = None
    seller_id: str | None = None
    account_pk: int | None = None
    account_id: str | None = None

    @property
    def label(self) -> str:
        """How history records this actor (R13)."""
        if self.role is Role.SELLER:
            return f"seller:{self.seller_id}"
        if self.role is Role.BUYER:
            return f"buyer:{self.account_id}"
        return "operator"
