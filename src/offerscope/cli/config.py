"""`offerscope config export|plan|apply` (R19): configuration as code, over HTTP.

These commands speak to a running server (`--url`/`OFFERSCOPE_URL`, `--token`/
`OFFERSCOPE_TOKEN`, a seller's token), never to a database: a CI pipeline needs only the URL
and a token. Files are TOML when their name ends in `.toml`, JSON otherwise. A TOML file gives
names as comments (a name is information, never a key). A list may live in a CSV file the
document names (`specified_users_csv = "beta.csv"`, relative to the document; the columns of
the import CSV: `account_id,account_name[,valid_from,valid_until]`), and so may a customer
group's members (`members_csv = "partners.csv"`, R17).

A plan file (`plan --out PLAN`) holds the document and the fingerprint of the state it was
planned on: `apply PLAN` applies it only if nothing changed since (else 412, nothing applied).
Exit codes: 0 done (plan: nothing would change), 2 (plan) something would change, 1 an error.
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

app = typer.Typer(help="Configuration as code (R19), against a server over HTTP.")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

PLAN_KIND = "offerscope-plan"
CSV_KEY = "specified_users_csv"
MEMBERS_CSV_KEY = "members_csv"

Url = Annotated[
    str,
    typer.Option(
        "--url", envvar="OFFERSCOPE_URL", help="The server, e.g. https://offerscope.example"
    ),
]
Token = Annotated[
    str, typer.Option("--token", envvar="OFFERSCOPE_TOKEN", help="A seller's access token.")
]


class Failed(Exception):
    """An answer the command reports and exits 1 on."""


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=300
    )


def _answer(response: httpx.Response) -> Any:
    if response.is_success:
        return response.json()
    try:
        body = response.json()
        message = f"{response.status_code} {body.get('code')}: {body.get('detail')}"
    except ValueError:
        message = f"{response.status_code}: {response.text[:500]}"
    raise Failed(message)


# --- files --------------------------------------------------------------------------------


def _string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())  # one line, whatever the name holds


def _entries_toml(entries: list[dict[str, Any]], key: str = "specified_users") -> Iterator[str]:
    yield f"{key} = ["
    for entry in entries:
        fields = ", ".join(f"{k} = {_string(v)}" for k, v in entry.items() if v is not None)
        yield f"  {{ {fields} }},"
    yield "]"


def _ids_toml(key: str, ids: list[str], names: dict[str, str]) -> Iterator[str]:
    yield f"{key} = ["
    for other in ids:
        yield f"  {_string(other)},  # {_comment(names.get(other, ''))}"
    yield "]"


def to_toml(document: dict[str, Any]) -> str:
    """The document as TOML a person can read: names as comments, one entry a line."""
    names = {p["product_id"]: p.get("name") or "" for p in document["products"]}
    names.update(
        {
            s["specification_id"]: s.get("name") or ""
            for p in document["products"]
            for s in p["specifications"]
        }
    )
    names.update({g["group_id"]: g.get("name") or "" for g in document.get("groups", [])})
    lines = [
        "# offerscope configuration (R19). IDs are keys; names are comments, for people.",
        f"version = {document['version']}",
    ]
    if not document.get("groups"):
        lines.append("groups = []  # R17: the seller's customer groups (none yet)")
    for product in document["products"]:
        lines += ["", f"[[products]]  # {_comment(product.get('name') or '')}"]
        lines.append(f"product_id = {_string(product['product_id'])}")
        lines.append(f"target = {_string(product['target'])}")
        lines += _ids_toml("associated_products", product["associated_products"], names)
        lines += _ids_toml("groups", product.get("groups", []), names)
        lines += _entries_toml(product["specified_users"])
        for spec in product["specifications"]:
            lines += ["", f"  [[products.specifications]]  # {_comment(spec.get('name') or '')}"]
            lines.append(f"  specification_id = {_string(spec['specification_id'])}")
            lines.append(f"  setting = {_string(spec['setting'])}")
            ids = spec["associated_specifications"]
            lines += ["  " + line for line in _ids_toml("associated_specifications", ids, names)]
            groups = spec.get("groups", [])
            lines += ["  " + line for line in _ids_toml("groups", groups, names)]
            lines += ["  " + line for line in _entries_toml(spec["specified_users"])]
    for group in document.get("groups", []):
        # R17: a group's name is a key here: a group given by name alone is created by it.
        lines += ["", "[[groups]]"]
        lines.append(f"group_id = {_string(group['group_id'])}")
        lines.append(f"name = {_string(group['name'])}")
        lines += _entries_toml(group["members"], "members")
    return "\n".join(lines) + "\n"


def read_document(path: Path) -> dict[str, Any]:
    """A document from a TOML or JSON file, with the CSV files it names read in."""
    text = path.read_text(encoding="utf-8")
    try:
        document: dict[str, Any] = (
            tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        )
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise Failed(f"{path} cannot be read: {error}") from error
    if not isinstance(document, dict):
        raise Failed(f"{path} is not a configuration document.")
    for product in document.get("products", []) or []:
        if isinstance(product, dict):
            _read_csv(product, path.parent)
            for spec in product.get("specifications", []) or []:
                if isinstance(spec, dict):
                    _read_csv(spec, path.parent)
    for group in document.get("groups", []) or []:
        if isinstance(group, dict):
            _read_csv(group, path.parent, MEMBERS_CSV_KEY, "members")
    return document


def _read_csv(
    owner: dict[str, Any], folder: Path, csv_key: str = CSV_KEY, key: str = "specified_users"
) -> None:
    name = owner.pop(csv_key, None)
    if name is None:
        return
    entries = list(owner.get(key) or [])
    with (folder / str(name)).open(encoding="utf-8-sig", newline="") as source:
        for line, row in enumerate(csv.reader(source), start=1):
            if not row or (line == 1 and row[0].strip().lower() == "account_id"):
                continue
            entry = {"account_id": row[0], "account_name": row[1] if len(row) > 1 else ""}
            for end, value in zip(("valid_from", "valid_until"), row[2:4], strict=False):
                if value.strip():
                    entry[end] = value
            entries.append(entry)
    owner[key] = entries


def _write(path: Path, document: dict[str, Any]) -> None:
    if path.suffix.lower() == ".toml":
        path.write_text(to_toml(document), encoding="utf-8")
    else:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")


# --- showing a plan -----------------------------------------------------------------------

SIGNS = {"add": "+", "remove": "-", "change": "~"}


def _where(change: dict[str, Any]) -> str:
    if change["product_id"] is None:  # R17: a group's own change
        group_id = change.get("group_id")
        return f"group {change.get('group_name')}" + (f" ({group_id})" if group_id else " (new)")
    spec = change["specification_id"]
    return str(change["product_id"]) + (f" / {spec}" if spec else "")


def _value(value: Any) -> str:
    if isinstance(value, dict):
        window = [f"{k} {v}" for k, v in value.items() if k != "account_name" and v]
        name = str(value.get("account_name", ""))
        return name + (f" ({', '.join(window)})" if window else "")
    return "" if value is None else str(value)


def show_changes(changes: list[dict[str, Any]], impact: dict[str, Any] | None) -> None:
    """The diff (+ added, - removed, ~ changed), then the impact (R14)."""
    if not changes:
        out.print("No changes: the state already matches the document.")
        return
    for change in changes:
        sign, kind = SIGNS[change["op"]], change["kind"].replace("_", " ")
        subject = f" {change['subject']}" if change["subject"] else ""
        if change["kind"] == "group":  # R17: a group the document creates
            out.print(f"{sign} {_where(change)}: created")
            continue
        if change["op"] == "change":
            detail = f"{_value(change['before'])} -> {_value(change['after'])}"
        else:
            detail = _value(change["after"] if change["op"] == "add" else change["before"])
        out.print(f"{sign} {_where(change)}: {kind}{subject} {detail}".rstrip())
    counts = {op: sum(1 for c in changes if c["op"] == op) for op in SIGNS}
    out.print(
        f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove."
    )
    if impact is not None:
        out.print(
            f"Impact: {impact['gains']['count']:,} accounts gain the right to buy, "
            f"{impact['losses']['count']:,} lose it "
            f"({impact['customers_losing']['count']:,} of them current customers)."
        )
        for spec in impact["specifications"]:
            out.print(
                f"  {spec['specification_id']}: +{spec['gains']:,} -{spec['losses']:,}"
                f" (customers losing {spec['customers_losing']:,})"
            )
        for spec_id in impact.get("left_with_nobody", []):
            out.print(f"Warning: nobody could buy {spec_id} any more.")


# --- commands -----------------------------------------------------------------------------


def _run(action: Any) -> Any:
    try:
        return action()
    except Failed as error:
        err.print(f"error: {error}")
        raise typer.Exit(code=1) from None
    except (OSError, httpx.HTTPError) as error:
        err.print(f"error: {error}")
        raise typer.Exit(code=1) from None


@app.command("export")
def export_command(
    file: Annotated[Path, typer.Argument(help="Where to write: .toml for TOML, else JSON.")],
    url: Url,
    token: Token,
) -> None:
    """Write the seller's whole target-customer state to FILE."""

    def run() -> None:
        with _client(url, token) as client:
            document = _answer(client.get("/v1/config"))
        _write(file, document)
        out.print(f"Wrote {len(document['products'])} products to {file}.")

    _run(run)


@app.command("plan")
def plan_command(
    file: Annotated[Path, typer.Argument(help="The document (TOML or JSON).")],
    url: Url,
    token: Token,
    plan_out: Annotated[
        Path | None, typer.Option("--out", help="Save the plan, for `config apply PLAN`.")
    ] = None,
) -> None:
    """Show what applying FILE would change, and its impact. Exit 0: nothing; 2: changes."""

    def run() -> bool:
        document = read_document(file)
        with _client(url, token) as client:
            answer = _answer(client.put("/v1/config", params={"dry_run": "true"}, json=document))
        result = answer["result"]
        show_changes(result["changes"], answer["impact"])
        if plan_out is not None:
            saved = {"kind": PLAN_KIND, "based_on": result["based_on"], "document": document}
            saved["changes"] = result["changes"]
            plan_out.write_text(json.dumps(saved, ensure_ascii=False) + "\n", "utf-8")
            out.print(f"Saved the plan to {plan_out}: `offerscope config apply {plan_out}`.")
        return bool(result["changes"])

    if _run(run):
        raise typer.Exit(code=2)


@app.command("apply")
def apply_command(
    file: Annotated[Path, typer.Argument(help="A document, or a plan saved by `plan --out`.")],
    url: Url,
    token: Token,
) -> None:
    """Make the state equal to FILE; a PLAN applies only if nothing changed since (412)."""

    def run() -> None:
        document = _plan_or_document(file)
        with _client(url, token) as client:
            result = _answer(client.put("/v1/config", json=document))
        show_changes(result["changes"], result["impact"])
        for created in result.get("created_groups", []):
            out.print(f"Created group {created['name']}: {created['group_id']}")
        out.print("Applied." if result["changed"] else "Nothing to apply.")

    _run(run)


def _plan_or_document(file: Path) -> dict[str, Any]:
    if file.suffix.lower() != ".toml":
        try:
            saved = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise Failed(f"{file} cannot be read: {error}") from error
        if isinstance(saved, dict) and saved.get("kind") == PLAN_KIND:
            document: dict[str, Any] = {**saved["document"], "based_on": saved["based_on"]}
            return document
    return read_document(file)
