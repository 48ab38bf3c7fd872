"""Memory of a freshly built decision index, measured in a process of its own.

`python -m bench.memory URL` prints JSON: the resident-set growth of building the index,
and its list entries with the bytes their bitmaps take.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

from offerscope.index.index import DecisionIndex
from offerscope.storage.unit_of_work import Database


def rss_bytes() -> int:
    """This process's resident set size (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def measure(url: str) -> dict[str, int]:
    db = Database.connect(url, pool_size=2)
    with db.reading() as uow:  # connect and warm the driver before the baseline
        uow.session.connection()
    gc.collect()
    before = rss_bytes()
    index = DecisionIndex(db)
    index.rebuild()
    gc.collect()
    after = rss_bytes()
    stats = index.stats()
    index.close()
    db.dispose()
    return {
        "rss_growth": after - before,
        "accounts": stats.accounts,
        "specifications": stats.specifications,
        "list_entries": stats.list_entries,
        "list_bytes": stats.list_bytes,
    }


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
