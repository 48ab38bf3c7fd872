"""R17 over HTTP: a seller's customer groups and their members.

Members are R5's entries (name and ID checked, R16's windows), over the same use cases as a
specified-user list; a group goes on a list with `POST …/specified-users {"group_id"}`.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response, status

from offerscope.api import schemas
from offerscope.api.deps import CheckedText, Cursor, Db, Limit, Search, Seller
from offerscope.domain.limits import DEFAULT_PAGE
from offerscope.domain.windows import EntryStatus
from offerscope.services import groups
from offerscope.services.groups import GroupView
from offerscope.services.history import group_history

router = APIRouter(prefix="/v1/customer-groups", tags=["groups"], dependencies=[CheckedText])


def _group(view: GroupView) -> schemas.CustomerGroup:
    return schemas.CustomerGroup(
        group_id=view.group_id,
        name=view.name,
        created_at=view.created_at,
        members=view.members,
        lists=[schemas.HoldingList(**asdict(h)) for h in view.lists],
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.CustomerGroup)
def create_group(body: schemas.GroupCreate, db: Db, actor: Seller) -> schemas.CustomerGroup:
    """A new, empty group (409 `group_name_taken` if you have one of that name)."""
    return _group(groups.create_group(db, actor, body.name))


@router.get("", response_model=schemas.CustomerGroupList)
def list_groups(
    db: Db, actor: Seller, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> schemas.CustomerGroupList:
    """Your groups in creation order, with how many members and lists each has."""
    page = groups.list_groups(db, actor, limit=limit, cursor=cursor)
    return schemas.CustomerGroupList(
        items=[schemas.CustomerGroupSummary(**vars(g)) for g in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{group_id}", response_model=schemas.CustomerGroup)
def get_group(group_id: str, db: Db, actor: Seller) -> schemas.CustomerGroup:
    return _group(groups.get_group(db, actor, group_id))


@router.patch("/{group_id}", response_model=schemas.CustomerGroup)
def rename_group(
    group_id: str, body: schemas.GroupRename, db: Db, actor: Seller
) -> schemas.CustomerGroup:
    return _group(groups.rename_group(db, actor, group_id, body.name))


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_group(group_id: str, db: Db, actor: Seller) -> Response:
    """409 `group_in_use`, naming the lists, while any list holds the group."""
    groups.delete_group(db, actor, group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{group_id}/members", response_model=schemas.MemberPage)
def list_members(
    group_id: str,
    db: Db,
    actor: Seller,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
    q: Search = "",
    status: EntryStatus | None = None,
) -> schemas.MemberPage:
    page = groups.list_members(
        db, actor, group_id, limit=limit, cursor=cursor, search=q, status=status
    )
    return schemas.MemberPage(
        items=[schemas.SpecifiedUser(**vars(u)) for u in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/{group_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.SpecifiedUser,
    responses={200: {"model": schemas.SpecifiedUser, "description": "Already a member"}},
)
def add_member(
    group_id: str, body: schemas.SpecifiedUserAdd, response: Response, db: Db, actor: Seller
) -> schemas.SpecifiedUser:
    """R5's name-and-ID check and R16's window; reaches every list holding the group at once."""
    added = groups.add_member(
        db, actor, group_id, body.account_id, body.account_name, body.window()
    )
    response.status_code = status.HTTP_201_CREATED if added.created else status.HTTP_200_OK
    return schemas.SpecifiedUser(**vars(added.user))


@router.delete(
    "/{group_id}/members/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def remove_member(group_id: str, account_id: str, db: Db, actor: Seller) -> Response:
    groups.remove_member(db, actor, group_id, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{group_id}/history", response_model=schemas.HistoryPage)
def history(
    group_id: str, db: Db, actor: Seller, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None
) -> schemas.HistoryPage:
    """R17: the group's own changes, newest first."""
    page = group_history(db, actor, group_id, limit=limit, cursor=cursor)
    return schemas.HistoryPage(
        items=[schemas.HistoryEntry(**vars(e)) for e in page.items], next_cursor=page.next_cursor
    )
