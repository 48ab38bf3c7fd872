"""Request and response bodies of the HTTP API, separate from tables and domain values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, with_config
from typing_extensions import TypedDict

from offerscope.domain.decision import Decision, Level, Reason
from offerscope.domain.limits import MAX_BATCH, MAX_IDS, MAX_SPECIFICATIONS
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import EntryStatus, Window, read_window
from offerscope.services import views

# Bounds that keep a request cheap to validate; the domain checks the exact shapes and
# answers with sentences of its own.
# No string may hold NUL: PostgreSQL cannot even compare text with one. A pattern is checked
# in pydantic's core, so a batch of 10,000 checks costs no Python per string.
NO_NUL = r"^[^\x00]*$"
# The longest ID a request may send, in characters (the hot paths take the same bound).
MAX_ID = 64
# Strict: a JSON value of another type is refused, never coerced ("yes" or 1 is not true).
Id = Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID, pattern=NO_NUL)]
Name = Annotated[StrictStr, Field(max_length=1000, pattern=NO_NUL)]
CheckedId = Annotated[StrictStr, Field(max_length=MAX_ID, pattern=NO_NUL)]


def holds_nul(value: Any) -> bool:
    """Whether a JSON value holds the NUL character in any string, key or nested item."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    pass


# --- requests -------------------------------------------------------------------------------


# Judged by the domain's one validator (`names.parse_account_type`), as CSV rows are.
AccountTypeText = Annotated[
    StrictStr, Field(max_length=64, json_schema_extra={"enum": [t.value for t in AccountType]})
]


class AccountCreate(Request):
    account_id: Id
    account_name: Name
    account_type: AccountTypeText


class AccountPatch(Request):
    account_name: Name | None = None
    account_type: AccountTypeText | None = None


class SellerCreate(Request):
    name: Name


class TokenCreate(Request):
    role: Literal["operator", "seller", "buyer"]
    seller_id: Id | None = None
    account_id: Id | None = None


class SpecificationCreate(Request):
    name: Name


class ProductCreate(Request):
    name: Name
    specifications: Annotated[list[SpecificationCreate], Field(max_length=MAX_SPECIFICATIONS)] = []


class ProductTargetSet(Request):
    target: Target
    reset_conflicting_specifications: StrictBool = False


class SpecificationTargetSet(Request):
    target: Setting


# RFC 3339 with a zone, as a JSON string (strict: a number is not a time); the domain reads
# it and judges the zone and the order with sentences of its own.
Moment = Annotated[StrictStr, Field(max_length=64, pattern=NO_NUL)]


class SpecifiedUserAdd(Request):
    account_id: Name
    account_name: Name
    valid_from: Moment | None = Field(
        default=None, description="R16: the entry counts from this moment (RFC 3339, with zone)."
    )
    valid_until: Moment | None = Field(
        default=None, description="R16: the entry stops counting at this moment."
    )

    def window(self) -> Window:
        return read_window(self.valid_from, self.valid_until)


class GroupAttach(Request):
    """R17: put one of your customer groups on this list (its members count there)."""

    group_id: Id


class GroupCreate(Request):
    name: Name


class GroupRename(Request):
    name: Name


class ProductAssociationAdd(Request):
    product_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS)]


class SpecificationAssociationAdd(Request):
    specification_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS)]


class OrderCreate(Request):
    specification_id: Id


class DecisionRequest(Request):
    account_id: CheckedId
    specification_id: CheckedId


@with_config(ConfigDict(extra="forbid"))
class BatchCheck(TypedDict):
    """One check of a batch: a typed dict, validated in pydantic's core without building a
    model per check (10,000 models cost eight times as much)."""

    account_id: CheckedId
    specification_id: CheckedId


class BatchRequest(Request):
    checks: Annotated[list[BatchCheck], Field(max_length=MAX_BATCH)]


# --- responses ------------------------------------------------------------------------------


class Account(Response):
    account_id: str
    account_name: str
    account_type: AccountType

    @classmethod
    def of(cls, view: views.AccountView) -> Account:
        return cls(
            account_id=view.account_id,
            account_name=view.account_name,
            account_type=view.account_type,
        )


class Seller(Response):
    seller_id: str
    name: str


class Token(Response):
    token: str


class Specification(Response):
    specification_id: str
    name: str


class Product(Response):
    product_id: str
    name: str
    target: Target
    specifications: list[Specification]

    @classmethod
    def of(cls, view: views.ProductView) -> Product:
        return cls(
            product_id=view.product_id,
            name=view.name,
            target=view.target,
            specifications=[Specification(**vars(s)) for s in view.specifications],
        )


class ProductPage(Response):
    items: list[Product]
    next_cursor: str | None


class SpecificationTarget(Response):
    specification_id: str
    name: str
    setting: Setting
    effective_target: Target
    editable: bool
    allowed_settings: list[Setting]
    audience_size: int | None = Field(
        default=None, description="R14: how many accounts may buy it now (on GET)."
    )


class TargetCustomers(Response):
    product_id: str
    target: Target
    allowed_targets: list[Target]
    specifications: list[SpecificationTarget]
    version: int
    reset_specifications: list[str] = Field(
        default=[], description="R4: specifications this change returned to same_as_product."
    )
    audience_size: int | None = Field(
        default=None, description="R14: how many accounts the product's target admits now."
    )

    @classmethod
    def of(cls, view: views.TargetCustomersView) -> TargetCustomers:
        return cls(
            product_id=view.product_id,
            target=view.target,
            allowed_targets=view.allowed_targets,
            specifications=[SpecificationTarget(**vars(s)) for s in view.specifications],
            version=view.version,
            reset_specifications=view.reset_specifications,
            audience_size=view.audience_size,
        )


class SpecifiedUser(Response):
    account_id: str
    account_name: str = Field(description="The name entered when the account was added.")
    current_account_name: str = Field(description="The account's name today (SPEC.md §2).")
    account_type: AccountType
    added_at: datetime
    counts: bool = Field(description="R14: whether this entry admits its account now.")
    why: str | None = Field(description="Why it does not count, when it does not.")
    valid_from: datetime | None = Field(description="R16: counts from this moment (or always).")
    valid_until: datetime | None = Field(description="R16: counts until this moment (or always).")
    status: EntryStatus = Field(description="R16: active, scheduled or expired, now.")


class AttachedGroup(Response):
    group_id: str
    name: str
    members: int = Field(description="How many accounts the group holds.")
    not_counting: int = Field(
        default=0,
        description="R6 at check time: members of the wrong account type to count on this list.",
    )
    why: str | None = Field(default=None, description="Why those members do not count here.")


class SpecifiedUserPage(Response):
    items: list[SpecifiedUser]
    next_cursor: str | None
    active: bool = Field(description="R5: false while the owner's setting is not `specified`.")
    groups: list[AttachedGroup] = Field(
        default=[], description="R17: the customer groups whose members count on this list too."
    )


class MemberPage(Response):
    """R17: a page of a customer group's members (`counts`/`why` by their windows; R6 is
    judged on each list holding the group)."""

    items: list[SpecifiedUser]
    next_cursor: str | None


class HoldingList(Response):
    product_id: str
    product_name: str
    specification_id: str | None
    specification_name: str | None


class CustomerGroup(Response):
    group_id: str
    name: str
    created_at: datetime
    members: int
    lists: list[HoldingList] = Field(description="The specified-user lists holding the group.")


class CustomerGroupSummary(Response):
    group_id: str
    name: str
    created_at: datetime
    members: int
    lists: int


class CustomerGroupList(Response):
    items: list[CustomerGroupSummary]
    next_cursor: str | None


class Associated(Response):
    id: str
    name: str


class AssociationList(Response):
    items: list[Associated]
    next_cursor: str | None = None
    active: bool = Field(description="R7/R8: false while the setting is not `associated`.")


class ImpactCounts(Response):
    gains: int
    losses: int
    customers_losing: int


class HistoryEntry(Response):
    at: datetime
    actor: str
    action: str
    specification_id: str | None
    subject: str | None
    before: str | None
    after: str | None
    impact: ImpactCounts | None = Field(
        default=None, description="R14: the change's impact counts, where it had an impact."
    )


class HistoryPage(Response):
    items: list[HistoryEntry]
    next_cursor: str | None


def _absent(value: object) -> bool:
    return value is None


class DecisionBody(Response):
    allowed: bool
    reason: Reason
    level: Level | None
    message: str
    # R16: only with `specified_user_expired` (when the entry stopped counting) and
    # `specified_user_not_yet_valid` (when it starts); absent otherwise.
    valid_until: datetime | None = Field(default=None, exclude_if=_absent)
    valid_from: datetime | None = Field(default=None, exclude_if=_absent)

    @classmethod
    def of(cls, decision: Decision) -> DecisionBody:
        return cls.model_validate(decision.summary())


class BatchResult(DecisionBody):
    account_id: str
    specification_id: str


class BatchResponse(Response):
    results: list[BatchResult]


class CatalogSpecification(Response):
    specification_id: str
    name: str
    effective_target: Target
    purchasable: bool
    decision: DecisionBody


class CatalogProduct(Response):
    product_id: str
    name: str
    seller_name: str
    target: Target
    specifications: list[CatalogSpecification]


class CatalogPage(Response):
    items: list[CatalogProduct]
    next_cursor: str | None


class Order(Response):
    order_id: str
    account_id: str
    specification_id: str
    product_id: str
    status: Literal["paid", "refunded"]
    created_at: datetime


class OrderPage(Response):
    items: list[Order]
    next_cursor: str | None


class ImpactFigure(Response):
    count: int
    sample: list[str] = Field(description="Up to 20 of the account IDs, in ascending order.")


class SpecificationImpact(Response):
    specification_id: str
    gains: int
    losses: int
    customers_losing: int


class Impact(Response):
    """R14: who gains and who loses the right to buy, over registered accounts."""

    gains: ImpactFigure
    losses: ImpactFigure
    customers_losing: ImpactFigure
    specifications: list[SpecificationImpact]
    left_with_nobody: list[str] = Field(
        description="Specifications the change would leave with nobody able to buy them."
    )


class DryRun(Response):
    """The answer to any write sent with `?dry_run=true` (R14)."""

    dry_run: Literal[True]
    impact: Impact | None
    result: Any = Field(default=None, description="The body the write would have answered.")


class Problem(Response):
    """An error, as application/problem+json (RFC 9457) with offerscope's stable `code`."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    code: str


class Health(Response):
    status: Literal["ok"]
