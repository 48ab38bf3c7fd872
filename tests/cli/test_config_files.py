"""R19 documents as files: a list given as a CSV file beside the document is read into it with
the import CSV's columns (R16's window columns included), as `users export` writes them."""

from __future__ import annotations

from pathlib import Path

from offerscope.cli.config import read_document

ALICE = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
BOB = "3d4e5f60718293a4b5c6d7e8f90a1b2c"


def test_a_list_csv_with_window_columns_is_read_as_the_lists_entries(tmp_path: Path) -> None:
    (tmp_path / "beta.csv").write_text(
        "account_id,account_name,valid_from,valid_until\n"
        f"{ALICE},alice_wang,,\n"
        f"{BOB},bob_li,2027-01-01T00:00:00Z,2027-03-31T00:00:00Z\n"
    )
    (tmp_path / "members.csv").write_text(
        f"account_id,account_name,valid_from,valid_until\n{BOB},bob_li,,2027-03-31T00:00:00Z\n"
    )
    (tmp_path / "shop.toml").write_text(
        'version = 1\n[[products]]\nproduct_id = "prd_1"\n'
        '[[products.specifications]]\nspecification_id = "spc_1"\n'
        'specified_users_csv = "beta.csv"\n'
        '[[groups]]\nname = "Pilots"\nmembers_csv = "members.csv"\n'
    )
    document = read_document(tmp_path / "shop.toml")
    (spec,) = document["products"][0]["specifications"]
    assert spec == {
        "specification_id": "spc_1",
        "specified_users": [
            {"account_id": ALICE, "account_name": "alice_wang"},
            {
                "account_id": BOB,
                "account_name": "bob_li",
                "valid_from": "2027-01-01T00:00:00Z",
                "valid_until": "2027-03-31T00:00:00Z",
            },
        ],
    }
    assert document["groups"] == [
        {
            "name": "Pilots",
            "members": [
                {"account_id": BOB, "account_name": "bob_li", "valid_until": "2027-03-31T00:00:00Z"}
            ],
        }
    ]
