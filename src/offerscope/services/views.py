"""What use cases return: plain immutable values, never table rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from offerscope.domain.decision import Decision
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import EntryStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and where it stands in the whole where that is known.

    `start` counts the items before this page; `total` is every item when it was asked for
    (`partial_total`: a search's best matches only, more that merely contain it may follow).
    `looked_in_part`: a search ended this page where it stopped looking, so the page may be
    short, and the next page looks further.
    """

    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None = None
    start: int | None = None
    total: int | None = None
    partial_total: bool = False
    looked_in_part: bool = False


@dataclass(frozen=True)
class AccountView:
    account_id: str
    account_name: str
    account_type: AccountType


@dataclass(frozen=True)
class SellerView:
    seller_id: str
    name: str


@dataclass(frozen=True)
class SpecificationView:
    specification_id: str
    name: str


@dataclass(frozen=True)
class ProductView:
    product_id: str
    name: str
    target: Target
    specifications: list[SpecificationView]


@dataclass(frozen=True)
class SpecificationTargetView:
    specification_id: str
    name: str
    setting: Setting
    effective_target: Target
    editable: bool
    allowed_settings: list[Setting]
    audience_size: int | None = None  # R14: accounts that may buy it now


@dataclass(frozen=True)
class TargetCustomersView:
    product_id: str
    name: str
    target: Target
    allowed_targets: list[Target]
    specifications: list[SpecificationTargetView]
    version: int
    reset_specifications: list[str] = field(default_factory=list)
    audience_size: int | None = None  # R14: accounts the product's target admits now


@dataclass(frozen=True)
class SpecifiedUserView:
    account_id: str
    account_name: str
    current_account_name: str
    account_type: AccountType
    added_at: datetime
    counts: bool = True  # R14: whether the entry admits its account now
    why: str | None = None  # and if not, why not
    valid_from: datetime | None = None  # R16: the entry counts only within its window
    valid_until: datetime | None = None
    status: EntryStatus = EntryStatus.ACTIVE


@dataclass(frozen=True)
class AttachedGroupView:
    """R17: a customer group on a specified-user list."""

    group_id: str
    name: str
    members: int
    not_counting: int = 0  # R6 at check time: members of the wrong type for this list
    why: str | None = None


@dataclass(frozen=True)
class SpecifiedUsersView:
    """A page of a list, whether the list counts now (R5: an inactive list is kept), and the
    customer groups whose members count there too (R17)."""

    page: Page[SpecifiedUserView]
    active: bool
    groups: list[AttachedGroupView] = field(default_factory=list)


@dataclass(frozen=True)
class AddedUser:
    user: SpecifiedUserView
    created: bool


@dataclass(frozen=True)
class RemovedUser:
    account_id: str
    account_name: str  # as it was entered on the list


@dataclass(frozen=True)
class AssociatedView:
    id: str
    name: str


@dataclass(frozen=True)
class AssociationsView:
    items: list[AssociatedView]
    active: bool
    created: bool = False
    next_cursor: str | None = None


@dataclass(frozen=True)
class HistoryEntryView:
    at: datetime
    actor: str
    action: str
    specification_id: str | None
    subject: str | None
    before: str | None
    after: str | None
    impact: dict[str, int] | None = None  # R14: the change's counts, where it had an impact


@dataclass(frozen=True)
class OrderView:
    order_id: str
    account_id: str
    specification_id: str
    product_id: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class OrderLineView:
    """An order as its buyer sees it: with the names of what it bought."""

    order: OrderView
    specification_name: str
    product_name: str


@dataclass(frozen=True)
class CheckResult:
    account_id: str
    specification_id: str
    decision: Decision


@dataclass(frozen=True)
class BuyFirstView:
    """A purchase that would admit a refused buyer: a product, or one of its specifications."""

    product_id: str
    product_name: str
    specification_name: str | None = None


@dataclass(frozen=True)
class CatalogSpecification:
    specification_id: str
    name: str
    effective_target: Target
    decision: Decision
    buy_first: list[BuyFirstView] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogProduct:
    product_id: str
    name: str
    seller_name: str
    target: Target
    specifications: list[CatalogSpecification]
