"""The Seller Console's customer groups (R17): the seller's groups, and one group's members.

A group's members are managed as a specified-user list is (name and ID, R16's window, search,
paging, CSV import); the lists holding a group are named on its page, each a link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from offerscope.console.entry_form import entry_values, read_entry, refused_field
from offerscope.console.preview import dry_run, preview_of
from offerscope.console.seller import FormState, FormText
from offerscope.console.uploads import UPLOAD_SUFFIX
from offerscope.console.web import (
    ConsoleRoute,
    PageLinks,
    SellerSession,
    cursor_param,
    flash,
    get_db,
    redirect,
    render,
    search_param,
    size_param,
)
from offerscope.domain.errors import Conflict, Invalid, OfferscopeError
from offerscope.services import groups
from offerscope.services.actors import Actor

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

MEMBERS_PAGE = 20


def _path(group_id: str) -> str:
    return f"/console/groups/{group_id}"


@router.get("/groups")
def group_list(request: Request, actor: SellerSession) -> Response:
    return _groups_page(request, actor)


def _groups_page(
    request: Request, actor: Actor, form: FormState | None = None, status: int = 200
) -> Response:
    found = groups.list_groups(get_db(request), actor).items
    context = {"groups": found, "form": form, "nav": "groups"}
    return render(request, "groups.html", context, status)


@router.post("/groups")
def create_group(request: Request, actor: SellerSession, name: FormText = "") -> Response:
    try:
        made = groups.create_group(get_db(request), actor, name)
    except (Invalid, Conflict) as error:
        return _groups_page(request, actor, FormState({"name": name}, {"name": error.message}), 422)
    flash(request, f"Created the group {made.name}. Add its members below.", near="members")
    return redirect(_path(made.group_id))


@router.get("/groups/{group_id}")
def group_page(request: Request, group_id: str, actor: SellerSession) -> Response:
    return _group_page(request, actor, group_id)


def _group_page(
    request: Request,
    actor: Actor,
    group_id: str,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
) -> Response:
    db = get_db(request)
    view = groups.get_group(db, actor, group_id)
    q = search_param(request, "q")
    size = size_param(request, "size", MEMBERS_PAGE)
    page = groups.list_members(
        db,
        actor,
        group_id,
        limit=size,
        cursor=cursor_param(request, "cursor"),
        search=q,
        count=True,
    )
    links = PageLinks(_path(group_id), "members", MEMBERS_PAGE, anchor="members", keep={"q": q})
    context = {
        "group": view,
        "page": page,
        "q": q,
        "size": str(size) if size != MEMBERS_PAGE else "",
        "paging": links.pager(page, size),
        "forms": forms or {},
        "nav": "groups",
        "when": _when,
    }
    return render(request, "group.html", context, status)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


@router.post("/groups/{group_id}/rename")
def rename_group(
    request: Request, group_id: str, actor: SellerSession, name: FormText = ""
) -> Response:
    try:
        groups.rename_group(get_db(request), actor, group_id, name)
    except (Invalid, Conflict) as error:
        forms = {"rename": FormState({"name": name}, {"name": error.message})}
        return _group_page(request, actor, group_id, forms, 422)
    flash(request, f"Renamed the group to {name}.")
    return redirect(_path(group_id))


@router.post("/groups/{group_id}/delete")
def delete_group(
    request: Request, group_id: str, actor: SellerSession, confirm: FormText = ""
) -> Response:
    view = groups.get_group(get_db(request), actor, group_id)
    if confirm != "yes":
        flash(request, "Tick the box to confirm, then click Delete Group.", "error", near="lists")
        return redirect(_path(group_id) + "#settings")
    try:
        groups.delete_group(get_db(request), actor, group_id)
    except Conflict as error:
        flash(request, error.message, "error", near="lists")
        return redirect(_path(group_id) + "#lists")
    flash(request, f"Deleted the group {view.name}.")
    return redirect("/console/groups")


@router.post("/groups/{group_id}/members")
def add_member(
    request: Request,
    group_id: str,
    actor: SellerSession,
    account_name: FormText = "",
    account_id: FormText = "",
    valid_from: FormText = "",
    valid_until: FormText = "",
) -> Response:
    values = entry_values(account_name, account_id, valid_from, valid_until)
    errors: dict[str, str] = {}
    window = read_entry(values, errors)
    if not errors:
        try:
            added = groups.add_member(
                get_db(request), actor, group_id, account_id, account_name, window
            )
        except (Invalid, Conflict) as error:
            refused_field(error, errors)
    if errors:
        forms = {"member": FormState(values, errors)}
        return _group_page(request, actor, group_id, forms, 422)
    user = added.user
    text = f"Added {user.account_name} ({user.account_id}) to the group."
    if not added.created:
        text = f"{user.account_name} ({user.account_id}) is a member; its dates are as entered now."
    flash(request, text, near="members")
    return redirect(_path(group_id) + "#members")


@router.get("/groups/{group_id}/members/{account_id}/remove")
def confirm_remove_member(
    request: Request, group_id: str, account_id: str, actor: SellerSession
) -> Response:
    """R14: what taking the member out would do on every list holding the group, first."""
    db = get_db(request)
    view = groups.get_group(db, actor, group_id)
    removed, impact = dry_run(lambda: groups.remove_member(db, actor, group_id, account_id))
    named = [s.specification_id for s in impact.specifications] if impact else []
    context = {
        "group": view,
        "removed": removed,
        "preview": preview_of(db, impact, groups.specification_names(db, actor, named)),
        "action": f"{_path(group_id)}/members/{quote(removed.account_id, safe='')}/remove",
        "nav": "groups",
    }
    return render(request, "group_remove.html", context)


@router.post("/groups/{group_id}/members/{account_id}/remove")
def remove_member(
    request: Request, group_id: str, account_id: str, actor: SellerSession
) -> Response:
    removed = groups.remove_member(get_db(request), actor, group_id, account_id)
    flash(
        request,
        f"Removed {removed.account_name} ({removed.account_id}) from the group.",
        near="members",
    )
    return redirect(_path(group_id) + "#members")


@router.post("/groups/{group_id}" + UPLOAD_SUFFIX)
async def import_members(
    request: Request,
    group_id: str,
    actor: SellerSession,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """R5's CSV import into the group, all or none; the first bad rows are named."""
    if file is None or not file.filename:
        forms = {"import": FormState({}, {"file": "Choose a CSV file to import."})}
        return _group_page(request, actor, group_id, forms, 422)
    try:
        db = get_db(request)
        report = await run_in_threadpool(groups.import_members, db, actor, group_id, file.file)
    except OfferscopeError as error:
        forms = {"import": FormState({}, {"file": _import_refused(error)})}
        return _group_page(request, actor, group_id, forms, 422)
    noun = "member" if report.imported == 1 else "members"
    flash(request, f"Imported {report.imported} {noun}.", near="members")
    return redirect(_path(group_id) + "#members")


def _import_refused(error: OfferscopeError) -> str:
    """Why an import changed nothing, in the page's words (the API's names an option of its
    own), with the first bad rows."""
    if error.code != "import_rejected":
        return error.message
    rows = error.details.get("errors") or []
    count = error.details.get("error_count", len(rows))
    said = (
        f"{count:,} row(s) are invalid, so nothing was imported. Correct them and import the "
        "file again."
    )
    return " ".join([said, *(f"Line {r['line']}: {r['message']}" for r in rows[:5])])


@router.get("/groups/{group_id}/export")
def export_members(request: Request, group_id: str, actor: SellerSession) -> Response:
    lines = groups.export_members(get_db(request), actor, group_id)
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{group_id}-members.csv"'},
    )
