"""A marketplace on the two test servers, driven over HTTP only (operator, seller, buyers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.concurrency.client import Client, Response
from tests.concurrency.conftest import Cluster, ServerProcess


def expect(response: Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text)
    body: dict[str, Any] = response.json() if response.content else {}
    return body


@dataclass
class Market:
    """One seller's shop on the cluster; every call names the process it goes through."""

    cluster: Cluster
    seller_token: str

    @classmethod
    def open(cls, cluster: Cluster) -> Market:
        operator = cluster.client(cluster.a, cluster.operator_token)
        seller = expect(operator.post("/v1/sellers", json={"name": "Race Seller"}), 201)
        token = expect(
            operator.post("/v1/tokens", json={"role": "seller", "seller_id": seller["seller_id"]}),
            201,
        )["token"]
        return cls(cluster, token)

    def operator(self, server: ServerProcess) -> Client:
        return self.cluster.client(server, self.cluster.operator_token)

    def seller(self, server: ServerProcess) -> Client:
        return self.cluster.client(server, self.seller_token)

    def account(self, account_type: str = "individual") -> dict[str, str]:
        """A new customer account with a unique ID and name."""
        hex_id = uuid.uuid4().hex
        body = {
            "account_id": hex_id,
            "account_name": f"u{hex_id[:20]}",
            "account_type": account_type,
        }
        expect(self.operator(self.cluster.a).post("/v1/accounts", json=body), 201)
        return body

    def buyer(self, account: dict[str, str], server: ServerProcess) -> Client:
        body = {"role": "buyer", "account_id": account["account_id"]}
        token = expect(self.operator(self.cluster.a).post("/v1/tokens", json=body), 201)["token"]
        return self.cluster.client(server, token)

    def product(self, target: str = "all", *specs: str) -> tuple[str, list[str]]:
        """A new product of this seller set to `target`: its ID and its specifications' IDs."""
        seller = self.seller(self.cluster.a)
        body = {"name": "Raced", "specifications": [{"name": s} for s in specs or ("Basic",)]}
        product = expect(seller.post("/v1/products", json=body), 201)
        product_id: str = product["product_id"]
        if target != "all":
            path = f"/v1/products/{product_id}/target-customers"
            expect(seller.put(path, json={"target": target}), 200)
        return product_id, [s["specification_id"] for s in product["specifications"]]
