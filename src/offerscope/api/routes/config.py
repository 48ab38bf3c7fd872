"""R19 over HTTP: `GET /v1/config` exports the seller's whole target-customer state, `PUT
/v1/config` makes the state equal to a document (`?dry_run=true`: the plan, with R14's
impact, from `DryRunMiddleware`).

A document is larger than other bodies (a list of 200,000 entries is some 20 MB), so this
path has a body limit of its own (`MAX_CONFIG_BYTES`); anything over it is 413 before a byte
is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal, NotRequired

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.routing import APIRoute
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, with_config
from typing_extensions import TypedDict

from offerscope.api.deps import CheckedText, Db, Seller
from offerscope.api.schemas import NO_NUL, Id, Impact, Moment, Name
from offerscope.api.schemas import Request as Body
from offerscope.api.schemas import Response as Answer
from offerscope.domain.targets import Setting, Target
from offerscope.services import config, config_entries
from offerscope.web.errors import HttpError

PATH = "/v1/config"
MAX_CONFIG_BYTES = 32 * 1024 * 1024
MAX_ENTRIES = 1_000_000  # in one list; the body limit bounds the whole document anyway


class _OrjsonRequest(Request):
    """A request whose JSON body is parsed by orjson: a document of 200,000 entries parses
    several times faster than with the standard library (a malformed one raises orjson's
    `JSONDecodeError`, a `json.JSONDecodeError`, so it is still 400 `invalid_request`)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class _OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def parsed_by_orjson(request: Request) -> Response:
            return await handler(_OrjsonRequest(request.scope, request.receive))

        return parsed_by_orjson


router = APIRouter(tags=["configuration"], dependencies=[CheckedText], route_class=_OrjsonRoute)

Fingerprint = Annotated[StrictStr, Field(max_length=100, pattern=NO_NUL)]


@with_config(ConfigDict(extra="forbid"))
class ConfigEntry(TypedDict):
    """One specified user (R5), with R16's window; a typed dict, cheap by the 100,000."""

    account_id: Name
    account_name: Name
    valid_from: NotRequired[Moment | None]
    valid_until: NotRequired[Moment | None]


Entries = Annotated[list[ConfigEntry], Field(max_length=MAX_ENTRIES)]
Ids = Annotated[list[Id], Field(max_length=10_000)]
GroupIds = Annotated[
    list[Id], Field(max_length=1000, description="R17: the IDs of the groups on the list.")
]


class ConfigSpecification(Body):
    specification_id: Id
    name: Name | None = Field(default=None, description="Information only: never changed.")
    setting: Setting | None = None
    specified_users: Entries | None = None
    groups: GroupIds | None = None
    associated_specifications: Ids | None = None


class ConfigProduct(Body):
    product_id: Id
    name: Name | None = Field(default=None, description="Information only: never changed.")
    target: Target | None = None
    specified_users: Entries | None = None
    groups: GroupIds | None = None
    associated_products: Ids | None = None
    specifications: Annotated[list[ConfigSpecification], Field(max_length=10_000)] = []


class ConfigGroup(Body):
    """R17: a customer group, by ID; or by name alone: the seller's group of that name,
    created if there is none."""

    group_id: Id | None = None
    name: Name | None = Field(
        default=None, description="Creates the group when no group_id is given; else information."
    )
    members: Entries | None = None


class ConfigDocument(Body):
    """R19: a seller's target-customer state. What it leaves out stays as it is; with
    `prune`, each list and association set it gives becomes exactly that."""

    version: StrictInt = Field(description="1: the only version so far.")
    prune: StrictBool = False
    based_on: Fingerprint | None = Field(
        default=None, description="Apply only if the state still has this fingerprint (412)."
    )
    products: Annotated[list[ConfigProduct], Field(max_length=100_000)] = []
    groups: Annotated[list[ConfigGroup], Field(max_length=1000)] = []


class ConfigChange(Answer):
    op: Literal["add", "remove", "change"]
    kind: Literal["target", "setting", "specified_user", "association", "group", "group_on_list"]
    product_id: str | None = Field(description="None for a change to a group's own members.")
    specification_id: str | None
    subject: str | None
    before: Any
    after: Any
    group_id: str | None = Field(
        default=None, description="The group whose members change (None for a new group)."
    )
    group_name: str | None = None


class CreatedGroup(Answer):
    name: str
    group_id: str


class ConfigApplied(Answer):
    changed: bool
    changes: list[ConfigChange]
    based_on: str = Field(description="The fingerprint of the state the changes were made on.")
    fingerprint: str = Field(description="The fingerprint of the state after them.")
    impact: Impact | None
    created_groups: list[CreatedGroup] = Field(
        default=[], description="R17: the groups the document created, with their new IDs."
    )


def _entries(items: list[ConfigEntry] | None) -> list[config_entries.EntryDoc] | None:
    if items is None:
        return None
    return [
        (e["account_id"], e["account_name"], e.get("valid_from"), e.get("valid_until"))
        for e in items
    ]


def _document(body: ConfigDocument, if_match: str | None) -> config.ConfigDoc:
    based_on = body.based_on
    if based_on is None and if_match is not None and if_match.strip() != "*":
        based_on = if_match.strip().removeprefix("W/").strip('"')
    return config.ConfigDoc(
        products=[
            config.ProductDoc(
                config.OwnerDoc(
                    p.product_id,
                    p.target.value if p.target is not None else None,
                    _entries(p.specified_users),
                    p.associated_products,
                    p.groups,
                ),
                [
                    config.OwnerDoc(
                        s.specification_id,
                        s.setting.value if s.setting is not None else None,
                        _entries(s.specified_users),
                        s.associated_specifications,
                        s.groups,
                    )
                    for s in p.specifications
                ],
            )
            for p in body.products
        ],
        prune=body.prune,
        based_on=based_on,
        groups=[config.GroupDoc(g.group_id, g.name, _entries(g.members)) for g in body.groups],
    )


@router.get(
    PATH,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "The document."}},
)
def export_config(db: Db, actor: Seller) -> Response:
    """R19: the seller's whole target-customer state as one document (ETag: its
    fingerprint)."""
    state = config.export_config(db, actor)
    return Response(
        orjson.dumps(state.document),
        media_type="application/json",
        headers={"ETag": f'"{state.fingerprint}"'},
    )


@router.put(PATH, response_model=ConfigApplied)
def apply_config(
    body: ConfigDocument,
    db: Db,
    actor: Seller,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> ConfigApplied:
    """R19: make the state equal to the document in one transaction; `?dry_run=true` is the
    plan. With `based_on` (or If-Match), 412 `config_changed` if anything changed since."""
    if body.version != config.VERSION:
        raise HttpError(422, "invalid_request", f"version is {config.VERSION}.")
    result = config.apply_config(db, actor, _document(body, if_match))
    return ConfigApplied(
        changed=bool(result.changes),
        changes=[ConfigChange(**vars(c)) for c in result.changes],
        based_on=result.based_on,
        fingerprint=result.fingerprint,
        impact=Impact(**result.impact.as_json()) if result.impact is not None else None,
        created_groups=[CreatedGroup(**vars(c)) for c in result.created_groups],
    )
