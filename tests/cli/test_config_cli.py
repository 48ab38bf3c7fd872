"""`offerscope config export|plan|apply` (R19) against a real `offerscope serve` process, as a
CI pipeline would run them: over HTTP, with OFFERSCOPE_URL and OFFERSCOPE_TOKEN."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.cli.test_serve_process import BOB, Served, _console_script, served

__all__ = ["served"]  # the fixture, shared with the serve test

pytestmark = pytest.mark.slow


def config(served: Served, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFERSCOPE_")}
    env |= {"OFFERSCOPE_URL": served.base, "OFFERSCOPE_TOKEN": served.exports["SELLER"]}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [_console_script(), "config", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def allowed(served: Served, account_id: str, specification_id: str) -> bool:
    answer = httpx.post(
        f"{served.base}/v1/decisions",
        json={"account_id": account_id, "specification_id": specification_id},
        headers={"Authorization": f"Bearer {served.exports['OPERATOR']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["allowed"])


def test_export_edit_plan_apply(served: Served, tmp_path: Path) -> None:
    env = served.exports
    beta, clouddb = env["BETA"], env["CLOUDDB"]
    seller = {"Authorization": f"Bearer {env['SELLER']}"}
    # R17: a group on Beta's list; the export gives it, its name a comment on the list.
    group = httpx.post(
        f"{served.base}/v1/customer-groups", json={"name": "Early birds"}, headers=seller
    ).json()["group_id"]
    attached = httpx.post(
        f"{served.base}/v1/products/{clouddb}/specifications/{beta}/specified-users",
        json={"group_id": group},
        headers=seller,
    )
    assert attached.status_code == 201, attached.text
    # Export: TOML with names as comments, that reads back as the server's document.
    exported = config(served, tmp_path, "export", "config.toml")
    assert exported.returncode == 0, exported.stderr
    text = (tmp_path / "config.toml").read_text()
    assert "[[products]]  # CloudDB" in text
    assert f'"{group}",  # Early birds' in text and "[[groups]]" in text
    document = tomllib.loads(text)
    served_doc = httpx.get(f"{served.base}/v1/config", headers=seller, timeout=30).json()
    for product in served_doc["products"]:
        del product["name"]
        for spec in product["specifications"]:
            del spec["name"]
    assert document == served_doc
    # Nothing to change: exit 0.
    unchanged = config(served, tmp_path, "plan", "config.toml")
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert "No changes" in unchanged.stdout
    # Edit: bob joins Beta's list from a CSV file the document names.
    (tmp_path / "beta.csv").write_text(f"account_id,account_name\n{BOB},bob_li\n")
    marker = f'specification_id = "{beta}"'
    edited = text.replace(marker, f'{marker}\n  specified_users_csv = "beta.csv"')
    assert edited != text
    (tmp_path / "config.toml").write_text(edited)
    planned = config(served, tmp_path, "plan", "config.toml", "--out", "plan.json")
    assert planned.returncode == 2, planned.stdout + planned.stderr
    assert f"+ {clouddb} / {beta}: specified user {BOB} bob_li" in planned.stdout
    assert "1 to add, 0 to change, 0 to remove." in planned.stdout
    assert "Impact: 1 accounts gain the right to buy" in planned.stdout
    assert not allowed(served, BOB, beta)  # a plan changes nothing
    # Someone changes Beta's list meanwhile: the saved plan is refused, nothing applied.
    alice = next(
        e["account_id"]
        for p in document["products"]
        for s in p["specifications"]
        if s["specification_id"] == beta
        for e in s["specified_users"]
    )
    removed = httpx.delete(
        f"{served.base}/v1/products/{clouddb}/specifications/{beta}/specified-users/{alice}",
        headers=seller,
        timeout=30,
    )
    assert removed.status_code == 204, removed.text
    stale = config(served, tmp_path, "apply", "plan.json")
    assert stale.returncode == 1
    assert "412 config_changed" in stale.stderr
    assert not allowed(served, BOB, beta)
    # Planned again and applied: bob (and alice, whom the document still names) are listed.
    again = config(served, tmp_path, "plan", "config.toml", "--out", "plan.json")
    assert again.returncode == 2, again.stdout + again.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["kind"] == "offerscope-plan"
    applied = config(served, tmp_path, "apply", "plan.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Applied." in applied.stdout
    assert allowed(served, BOB, beta) and allowed(served, alice, beta)
    # Export then apply changes nothing; so does applying the same document twice.
    twice = config(served, tmp_path, "apply", "config.toml")
    assert twice.returncode == 0 and "Nothing to apply." in twice.stdout
    assert config(served, tmp_path, "plan", "config.toml").returncode == 0


def test_errors_exit_nonzero_with_the_servers_sentence(served: Served, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"version": 1, "products": [{"x": 1}]}))
    bad = config(served, tmp_path, "plan", "bad.json")
    assert bad.returncode == 1 and "422 invalid_request" in bad.stderr
    missing = {"version": 1, "products": [{"product_id": "prd_nope", "target": "all"}]}
    (tmp_path / "missing.json").write_text(json.dumps(missing))
    refused = config(served, tmp_path, "apply", "missing.json")
    assert refused.returncode == 1 and "404 product_not_found" in refused.stderr
